package logging_test

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/warrentest"
)

// TestLinesCarryTraceIDs mounts logging inside tracing: the per-message
// line and the handler's logger carry the process span's trace and span ids.
func TestLinesCarryTraceIDs(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	core, logs := observer.New(zapcore.DebugLevel)
	var span trace.SpanContext
	r := warren.NewRouter()
	r.Use(tracing.Middleware(tracing.WithTracerProvider(tp)), logging.Middleware(zap.New(core)))
	r.HandleFunc("Order.*", func(ctx context.Context, _ *warren.Message) error {
		span = trace.SpanContextFromContext(ctx)
		logging.FromContext(ctx).Info("charging")
		return errors.New("card declined")
	})
	warrentest.Serve(r, order())
	if !span.IsValid() {
		t.Fatal("no span in the handler's context")
	}
	lines := logs.All()
	if len(lines) != 2 {
		t.Fatalf("%d lines, want the handler's and the middleware's", len(lines))
	}
	for _, l := range lines {
		f := l.ContextMap()
		if f["trace_id"] != span.TraceID().String() || f["span_id"] != span.SpanID().String() {
			t.Errorf("line %q has trace_id %v span_id %v, want %s %s", l.Message, f["trace_id"], f["span_id"], span.TraceID(), span.SpanID())
		}
	}
}
