package logging_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/warrentest"
)

// route mounts h behind the logging middleware on "Order.*" and returns the
// router and what it logs at level and above.
func route(t *testing.T, level zapcore.Level, h warren.HandlerFunc, opts ...logging.Option) (*warren.Router, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(level)
	r := warren.NewRouter()
	r.Use(logging.Middleware(zap.New(core), opts...), middleware.Recover)
	r.HandleFunc("Order.*", h)
	return r, logs
}

func returning(err error) warren.HandlerFunc {
	return func(context.Context, *warren.Message) error { return err }
}

func order(opts ...warrentest.MessageOption) *warren.Message {
	opts = append([]warrentest.MessageOption{warrentest.WithQueue("orders"),
		warrentest.WithMessageID("m-1"), warrentest.WithCorrelationID("c-1"), warrentest.WithAttempt(2)}, opts...)
	return warrentest.NewMessage("Order.Created", nil, opts...)
}

func TestMiddlewareLineFields(t *testing.T) {
	r, logs := route(t, zapcore.DebugLevel, returning(nil))
	warrentest.Serve(r, order())
	if logs.Len() != 1 {
		t.Fatalf("%d lines, want 1", logs.Len())
	}
	e := logs.All()[0]
	if e.Level != zapcore.DebugLevel || e.Message != "message handled" {
		t.Errorf("line = %v %q, want debug \"message handled\"", e.Level, e.Message)
	}
	want := map[string]any{"queue": "orders", "route": "Order.*", "routing_key": "Order.Created",
		"message_id": "m-1", "correlation_id": "c-1", "attempt": int64(2), "outcome": "ack"}
	got := e.ContextMap()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %#v, want %#v", k, got[k], v)
		}
	}
	if _, ok := got["duration"]; !ok {
		t.Error("no duration field")
	}
	if _, ok := got["error"]; ok {
		t.Error("error field on an ack")
	}
}

func TestMiddlewareLevelByOutcome(t *testing.T) {
	for _, tc := range []struct {
		err    error
		level  zapcore.Level
		reason string
	}{
		{errors.New("db down"), zapcore.WarnLevel, ""},
		{warren.Requeue(errors.New("busy")), zapcore.WarnLevel, ""},
		{warren.Permanent(errors.New("bad")), zapcore.ErrorLevel, warren.ReasonPermanent},
		{&warren.DecodeError{Err: errors.New("eof")}, zapcore.ErrorLevel, warren.ReasonDecode},
		{warren.Drop(errors.New("stale")), zapcore.InfoLevel, ""},
	} {
		r, logs := route(t, zapcore.DebugLevel, returning(tc.err))
		warrentest.Serve(r, order())
		if logs.Len() != 1 {
			t.Fatalf("%v: %d lines, want 1", tc.err, logs.Len())
		}
		e := logs.All()[0]
		m := e.ContextMap()
		if e.Level != tc.level || m["error"] != tc.err.Error() || m["outcome"] != warren.OutcomeOf(tc.err).Action.String() {
			t.Errorf("%v: line %v %q %v, want level %v", tc.err, e.Level, e.Message, m, tc.level)
		}
		if r, _ := m["reason"].(string); r != tc.reason {
			t.Errorf("%v: reason %q, want %q", tc.err, r, tc.reason)
		}
	}
}

func TestMiddlewareDisableAcks(t *testing.T) {
	fail := errors.New("x")
	var err error
	r, logs := route(t, zapcore.DebugLevel, func(context.Context, *warren.Message) error { return err }, logging.DisableAcks())
	warrentest.Serve(r, order())
	err = fail
	warrentest.Serve(r, order())
	if logs.Len() != 1 || logs.All()[0].Level != zapcore.WarnLevel {
		t.Fatalf("lines %v, want only the failure", logs.All())
	}
}

func TestMiddlewareSampleAcks(t *testing.T) {
	r, logs := route(t, zapcore.DebugLevel, returning(nil), logging.SampleAcks(3))
	for i := 1; i <= 7; i++ {
		warrentest.Serve(r, order(warrentest.WithMessageID(string(rune('0'+i)))))
	}
	var ids []string
	for _, e := range logs.All() {
		ids = append(ids, e.ContextMap()["message_id"].(string))
	}
	if strings.Join(ids, ",") != "1,4,7" {
		t.Fatalf("logged acks of messages %v, want 1,4,7", ids)
	}
}

func TestMiddlewareAckNotLoggedAboveDebug(t *testing.T) {
	r, logs := route(t, zapcore.InfoLevel, returning(nil))
	warrentest.Serve(r, order())
	if logs.Len() != 0 {
		t.Fatalf("lines %v at info level, want none", logs.All())
	}
}

func TestMiddlewareRedactsAndLogsPanics(t *testing.T) {
	r, logs := route(t, zapcore.DebugLevel, func(context.Context, *warren.Message) error {
		panic(errors.New("dial amqp://svc:s3cr3t@rabbit:5672/: refused"))
	})
	warrentest.Serve(r, order())
	m := logs.All()[0].ContextMap()
	if s := m["error"].(string); strings.Contains(s, "s3cr3t") || !strings.Contains(s, "amqp://svc:xxxxx@rabbit") {
		t.Errorf("error field %q leaks or loses the URL", s)
	}
	if s, _ := m["stack"].(string); !strings.Contains(s, "goroutine") {
		t.Errorf("stack field = %q, want the panic's stack", s)
	}
}

func TestMiddlewareSeesCorrelationIDSetInside(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := logging.Middleware(zap.New(core))(middleware.CorrelationID(returning(nil)))
	warrentest.Serve(h, warrentest.NewMessage("a", nil, warrentest.WithMessageID("m-9")))
	if got := logs.All()[0].ContextMap()["correlation_id"]; got != "m-9" {
		t.Errorf("correlation_id = %v, want m-9", got)
	}
}

func TestFromContext(t *testing.T) {
	var kept *zap.Logger
	r, logs := route(t, zapcore.InfoLevel, func(ctx context.Context, _ *warren.Message) error {
		var wg sync.WaitGroup
		for range 4 { // concurrent first use builds one logger
			wg.Add(1)
			go func() { defer wg.Done(); logging.FromContext(ctx).Info("step") }()
		}
		wg.Wait()
		kept = logging.FromContext(ctx)
		return nil
	})
	msg := order()
	warrentest.Serve(r, msg)
	*msg = warren.Message{} // as the transport recycles it
	kept.Info("after")
	if logs.Len() != 5 {
		t.Fatalf("%d lines, want 5", logs.Len())
	}
	for _, e := range logs.All() {
		if m := e.ContextMap(); m["message_id"] != "m-1" || m["route"] != "Order.*" || m["queue"] != "orders" {
			t.Errorf("line %q has fields %v", e.Message, m)
		}
	}
}

func TestFromContextDefaults(t *testing.T) {
	logging.FromContext(context.Background()).Error("to nowhere") // no-op, no panic
	core, logs := observer.New(zapcore.DebugLevel)
	logging.FromContext(logging.NewContext(context.Background(), zap.New(core))).Info("hi")
	if logs.Len() != 1 {
		t.Fatal("NewContext's logger not returned")
	}
}
