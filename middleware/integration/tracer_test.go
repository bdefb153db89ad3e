package integration_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/middleware/tracing"
)

// tracer is a TracerProvider exporting synchronously to memory, and the
// tracing options that use it and W3C trace context. The global provider
// and propagator are left alone.
type tracer struct {
	tp   *sdktrace.TracerProvider
	exp  *tracetest.InMemoryExporter
	prop propagation.TextMapPropagator
	opts []tracing.Option
}

func newTracer(t *testing.T) *tracer {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	prop := propagation.TraceContext{}
	return &tracer{tp: tp, exp: exp, prop: prop,
		opts: []tracing.Option{tracing.WithTracerProvider(tp), tracing.WithPropagator(prop)}}
}

// dialOption makes a client inject trace context into everything it
// publishes: Publish, and the replies, retries and dead-letters of its
// consumers.
func (tr *tracer) dialOption() rabbitmq.Option {
	return rabbitmq.WithPublishMiddleware(func(p warren.Publisher) warren.Publisher {
		return tracing.InjectPublisher(p, tr.opts...)
	})
}

// spans returns the exported spans of kind k.
func (tr *tracer) spans(k trace.SpanKind) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range tr.exp.GetSpans() {
		if s.SpanKind == k {
			out = append(out, s)
		}
	}
	return out
}

// consumerSpans returns the exported consumer spans of the message with
// id, in the order they ended.
func (tr *tracer) consumerSpans(id string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range tr.spans(trace.SpanKindConsumer) {
		if attr(s, "messaging.message.id") == id {
			out = append(out, s)
		}
	}
	return out
}

// span returns the exported span with id, or false.
func (tr *tracer) span(id trace.SpanID) (tracetest.SpanStub, bool) {
	for _, s := range tr.exp.GetSpans() {
		if s.SpanContext.SpanID() == id {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

// ancestry walks s's parents through the exported spans and returns them,
// nearest first, up to the first parent that was not exported.
func (tr *tracer) ancestry(s tracetest.SpanStub) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for s.Parent.IsValid() && len(out) < 16 {
		p, ok := tr.span(s.Parent.SpanID())
		if !ok {
			break
		}
		out = append(out, p)
		s = p
	}
	return out
}

// attr returns the value of s's attribute key, or nil.
func attr(s tracetest.SpanStub, key string) any {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.AsInterface()
		}
	}
	return nil
}
