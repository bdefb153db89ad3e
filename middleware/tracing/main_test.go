package tracing_test

import (
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/warren-mq/warren/middleware/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var w3c = propagation.TraceContext{}

// setup returns a tracer provider that exports synchronously to memory and
// the options that make tracing use it and W3C trace context.
func setup(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter, []tracing.Option) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return tp, exp, []tracing.Option{tracing.WithTracerProvider(tp), tracing.WithPropagator(w3c)}
}

// attrs indexes a span's attributes by key.
func attrs(s tracetest.SpanStub) map[string]any {
	m := map[string]any{}
	for _, kv := range s.Attributes {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// byKind returns the one exported span of kind k.
func byKind(t *testing.T, exp *tracetest.InMemoryExporter, k string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.SpanKind.String() == k {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s spans, want 1 (spans: %v)", len(found), k, exp.GetSpans())
	}
	return found[0]
}

// exactAttrs fails unless span s has exactly the attributes in want.
func exactAttrs(t *testing.T, s tracetest.SpanStub, want map[string]any) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: attribute %s = %#v, want %#v", s.Name, k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected attribute %s = %#v", s.Name, k, v)
		}
	}
}
