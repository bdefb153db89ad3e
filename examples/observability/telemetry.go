package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/middleware/tracing"
)

// newTracerProvider sets up OpenTelemetry as a service does at start-up:
// a TracerProvider exporting to w (discarded when w is nil) and W3C trace
// context, both made global, which is what the tracing middleware uses by
// default. Shut the provider down to flush.
func newTracerProvider(w io.Writer) (*sdktrace.TracerProvider, error) {
	if w == nil {
		w = io.Discard
	}
	exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "observability-example"))))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp, nil
}

// tracePublishes is the client's publish middleware: every publish gets a
// producer span and carries its trace context (tracing.InjectPublisher);
// the transport's own republishes (a delayed retry, a dead letter) continue
// the trace the message carries.
func tracePublishes(p warren.Publisher) warren.Publisher {
	return tracing.InjectPublisher(p)
}

// newMetrics registers warren's metrics on a fresh registry.
func newMetrics() (*metrics.Metrics, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.WithRegisterer(reg))
	return m, reg, err
}

// serveMetrics serves reg on addr at /metrics until the returned function
// is called.
func serveMetrics(addr string, reg *prometheus.Registry) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("metrics server:", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, ln.Addr().String(), nil
}

// warrenMetrics returns what /metrics serves for reg, the warren_ series
// only, leaving out histogram buckets.
func warrenMetrics(reg *prometheus.Registry) string {
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var b strings.Builder
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "warren_") && !strings.Contains(line, "_bucket{") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
