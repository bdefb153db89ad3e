// Package tracing traces warren messages with OpenTelemetry, following the
// messaging semantic conventions (semconv v1.43.0): Middleware starts a
// CONSUMER span per message, parented by the W3C trace context its
// publisher put in the AMQP headers, and InjectPublisher starts a PRODUCER
// span per publish and writes its context into the headers. Wrapping the
// transport's publisher with InjectPublisher on one side and mounting
// Middleware on the other makes one trace cross services.
//
// Both use the global TracerProvider and TextMapPropagator (otel.Get...)
// unless WithTracerProvider and WithPropagator give others. The global
// propagator propagates nothing until set: call
// otel.SetTextMapPropagator(propagation.TraceContext{}) (or a composite
// with baggage) at start-up, or pass WithPropagator.
package tracing

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of warren's tracer.
const ScopeName = "github.com/warren-mq/warren/middleware/tracing"

// Option configures Middleware and InjectPublisher.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tp     trace.TracerProvider
	prop   propagation.TextMapPropagator
	tracer trace.Tracer
}

func newConfig(opts []Option) *config {
	c := &config{tp: otel.GetTracerProvider(), prop: otel.GetTextMapPropagator()}
	for _, o := range opts {
		o.apply(c)
	}
	c.tracer = c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
	return c
}

// WithTracerProvider makes spans with tp instead of the global provider.
// A nil tp is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	})
}

// WithPropagator reads and writes trace context in AMQP headers with p
// instead of the global propagator. A nil p is ignored.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.prop = p
		}
	})
}
