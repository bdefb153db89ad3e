package middleware_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/warrentest"
)

// BenchmarkChain measures the cost per message of each middleware and of
// the chain the issue names (recover + logging with acks disabled + metrics
// + tracing with a no-op provider + timeout) over a no-op handler.
func BenchmarkChain(b *testing.B) {
	m, err := metrics.New(metrics.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	logger := zap.NewNop()
	tracer := tracing.Middleware(tracing.WithTracerProvider(noop.NewTracerProvider()))
	for _, bc := range []struct {
		name string
		mws  []warren.Middleware
	}{
		{"none", nil},
		{"recover", []warren.Middleware{middleware.Recover}},
		{"timeout", []warren.Middleware{middleware.Timeout(time.Minute)}},
		{"correlation", []warren.Middleware{middleware.CorrelationID}},
		{"logging", []warren.Middleware{logging.Middleware(logger, logging.DisableAcks())}},
		{"metrics", []warren.Middleware{m.Middleware()}},
		{"tracing", []warren.Middleware{tracer}},
		{"chain", []warren.Middleware{middleware.Recover, logging.Middleware(logger, logging.DisableAcks()),
			m.Middleware(), tracer, middleware.Timeout(time.Minute)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := warren.NewRouter()
			r.Use(bc.mws...)
			r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { return nil })
			msg := warrentest.NewMessage("Order.Created", []byte("{}"), warrentest.WithQueue("orders"), warrentest.WithExchange("events"))
			ctx := warren.ContextWithPublisher(context.Background(), warrentest.NewRecorder())
			b.ReportAllocs()
			for b.Loop() {
				if err := r.ServeMessage(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
