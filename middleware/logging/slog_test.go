package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/warrentest"
)

// jsonLines is a slog JSON handler's output, one map per line.
type jsonLines struct{ buf bytes.Buffer }

func (j *jsonLines) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(&j.buf, &slog.HandlerOptions{Level: level}))
}

func (j *jsonLines) all(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(j.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func slogRoute(l *slog.Logger, h warren.HandlerFunc, opts ...logging.Option) *warren.Router {
	r := warren.NewRouter()
	r.Use(logging.SlogMiddleware(l, opts...), middleware.Recover)
	r.HandleFunc("Order.*", h)
	return r
}

func TestSlogMiddlewareLineFields(t *testing.T) {
	var j jsonLines
	warrentest.Serve(slogRoute(j.logger(slog.LevelDebug), returning(nil)), order())
	lines := j.all(t)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	want := map[string]any{"level": "DEBUG", "msg": "message handled", "queue": "orders", "route": "Order.*",
		"routing_key": "Order.Created", "message_id": "m-1", "correlation_id": "c-1", "attempt": float64(2), "outcome": "ack"}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("field %s = %#v, want %#v", k, lines[0][k], v)
		}
	}
	if _, ok := lines[0]["duration"]; !ok {
		t.Error("no duration field")
	}
}

func TestSlogMiddlewareLevelByOutcome(t *testing.T) {
	cases := []struct {
		err          error
		level, msg   string
		outcome, why string
	}{
		{nil, "DEBUG", "message handled", "ack", ""},
		{errors.New("db down"), "WARN", "message failed", "retry", ""},
		{warren.Requeue(errors.New("busy")), "WARN", "message requeued", "requeue", ""},
		{warren.Drop(errors.New("stale")), "INFO", "message dropped", "drop", ""},
		{warren.DeadLetter("invalid", errors.New("bad")), "ERROR", "message dead-lettered", "dead-letter", "invalid"},
	}
	for _, c := range cases {
		var j jsonLines
		warrentest.Serve(slogRoute(j.logger(slog.LevelDebug), returning(c.err)), order())
		lines := j.all(t)
		if len(lines) != 1 {
			t.Fatalf("%v: %d lines", c.err, len(lines))
		}
		l := lines[0]
		if l["level"] != c.level || l["msg"] != c.msg || l["outcome"] != c.outcome {
			t.Errorf("%v: line %v %q outcome %v, want %s %q %s", c.err, l["level"], l["msg"], l["outcome"], c.level, c.msg, c.outcome)
		}
		if c.why != "" && l["reason"] != c.why {
			t.Errorf("%v: reason %v, want %s", c.err, l["reason"], c.why)
		}
		if c.err != nil && l["error"] == nil {
			t.Errorf("%v: no error field", c.err)
		}
	}
}

func TestSlogMiddlewareAcksOptionsAndLevel(t *testing.T) {
	var j jsonLines
	r := slogRoute(j.logger(slog.LevelDebug), returning(nil), logging.SampleAcks(3))
	for i := 0; i < 7; i++ {
		warrentest.Serve(r, order())
	}
	if n := len(j.all(t)); n != 3 {
		t.Errorf("SampleAcks(3): %d of 7 acks logged, want 3", n)
	}
	var info jsonLines
	warrentest.Serve(slogRoute(info.logger(slog.LevelInfo), returning(nil)), order())
	if n := len(info.all(t)); n != 0 {
		t.Errorf("ack logged above debug: %d lines", n)
	}
}

func TestSlogFromContextAndTraceIDs(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var j jsonLines
	var span trace.SpanContext
	r := warren.NewRouter()
	r.Use(tracing.Middleware(tracing.WithTracerProvider(tp)), logging.SlogMiddleware(j.logger(slog.LevelDebug)))
	r.HandleFunc("Order.*", func(ctx context.Context, _ *warren.Message) error {
		span = trace.SpanContextFromContext(ctx)
		logging.SlogFromContext(ctx).Info("charging", "order", "o-1")
		return nil
	})
	warrentest.Serve(r, order())
	lines := j.all(t)
	if len(lines) != 2 {
		t.Fatalf("%d lines, want the handler's and the middleware's", len(lines))
	}
	if lines[0]["msg"] != "charging" || lines[0]["order"] != "o-1" || lines[0]["queue"] != "orders" || lines[0]["message_id"] != "m-1" {
		t.Errorf("handler line %v lacks the message fields", lines[0])
	}
	for _, l := range lines {
		if l["trace_id"] != span.TraceID().String() || l["span_id"] != span.SpanID().String() {
			t.Errorf("line %q has trace_id %v span_id %v, want %s %s", l["msg"], l["trace_id"], l["span_id"], span.TraceID(), span.SpanID())
		}
	}
	// Outside a handler: the NewSlogContext logger, else one that discards.
	var other jsonLines
	logging.SlogFromContext(logging.NewSlogContext(context.Background(), other.logger(slog.LevelInfo))).Info("x")
	if len(other.all(t)) != 1 {
		t.Error("SlogFromContext does not return the NewSlogContext logger")
	}
	logging.SlogFromContext(context.Background()).Error("to nowhere") // must not panic
	if logging.FromContext(logging.NewSlogContext(context.Background(), other.logger(slog.LevelInfo))) == nil {
		t.Error("FromContext returned nil")
	}
}

func TestSlogObserverLines(t *testing.T) {
	var j jsonLines
	o := logging.NewSlogObserver(j.logger(slog.LevelDebug))
	o.ObserveConnection(warren.ConnectionEvent{Name: "svc", State: warren.ConnUp})
	o.ObserveConnection(warren.ConnectionEvent{Name: "svc", State: warren.ConnDown, Attempt: 1, Err: errors.New("eof")})
	o.ObserveConnection(warren.ConnectionEvent{Name: "svc", State: warren.ConnUp, Attempt: 2})
	o.ObserveSettle(warren.SettleEvent{Queue: "q", Route: "Order.*", Action: warren.ActionAck})
	o.ObserveSettle(warren.SettleEvent{Queue: "q", Route: "Order.*", Action: warren.ActionDeadLetter, Reason: warren.ReasonError, Attempt: 3, Err: errors.New("x")})
	o.ObserveRetry(warren.RetryEvent{Queue: "q", Attempt: 1, Delay: time.Second, Delayed: true})
	o.ObservePublish(warren.PublishEvent{Exchange: "e", RoutingKey: "k"})
	o.ObservePublish(warren.PublishEvent{Exchange: "e", RoutingKey: "k", Err: errors.New("nack")})
	want := []struct{ level, msg string }{
		{"INFO", "connection up"}, {"WARN", "connection down"}, {"INFO", "connection recovered"},
		{"ERROR", "message dead-lettered"}, {"DEBUG", "message retry"}, {"ERROR", "publish failed"},
	}
	lines := j.all(t)
	if len(lines) != len(want) {
		t.Fatalf("%d lines %v, want %d", len(lines), lines, len(want))
	}
	for i, w := range want {
		if lines[i]["level"] != w.level || lines[i]["msg"] != w.msg {
			t.Errorf("line %d: %v %q, want %s %q", i, lines[i]["level"], lines[i]["msg"], w.level, w.msg)
		}
	}
	if lines[3]["reason"] != "error" || lines[3]["attempt"] != float64(3) || lines[4]["delayed"] != true || lines[5]["exchange"] != "e" {
		t.Errorf("fields missing: %v %v %v", lines[3], lines[4], lines[5])
	}
	var nilObs *logging.Observer
	nilObs.ObserveConnection(warren.ConnectionEvent{}) // must not panic
	logging.NewSlogObserver(nil).ObservePublish(warren.PublishEvent{Err: errors.New("x")})
}

func TestSlogRedactsCredentials(t *testing.T) {
	leak := errors.New("dial postgres://app:s3cret@db/orders failed, password=hunter2")
	var j jsonLines
	l := j.logger(slog.LevelDebug)
	warrentest.Serve(slogRoute(l, returning(leak)), order())
	o := logging.NewSlogObserver(l)
	o.ObserveSettle(warren.SettleEvent{Queue: "q", Action: warren.ActionDeadLetter, Reason: "error", Err: leak})
	o.ObserveRetry(warren.RetryEvent{Queue: "q", Err: leak})
	o.ObservePublish(warren.PublishEvent{Exchange: "e", Err: leak})
	o.ObserveConnection(warren.ConnectionEvent{Name: "amqp://u:s3cret@h/?token=hunter2", State: warren.ConnDown, Err: leak})
	if n := len(j.all(t)); n != 5 {
		t.Fatalf("%d lines, want 5", n)
	}
	if out := j.buf.String(); strings.Contains(out, "s3cret") || strings.Contains(out, "hunter2") {
		t.Errorf("slog output leaks:\n%s", out)
	}
}
