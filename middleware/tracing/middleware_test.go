package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/warrentest"
)

func router(opts []tracing.Option, h warren.HandlerFunc) *warren.Router {
	r := warren.NewRouter()
	r.Use(tracing.Middleware(opts...), middleware.Recover)
	r.HandleFunc("Order.*", h)
	return r
}

func ok(context.Context, *warren.Message) error { return nil }

func TestMiddlewareParentedByHeaders(t *testing.T) {
	tp, exp, opts := setup(t)
	pctx, parent := tp.Tracer("test").Start(context.Background(), "upstream")
	headers := amqp.Table{"x-other": int32(7)}
	w3c.Inject(pctx, tracing.HeaderCarrier(headers))
	parent.End()

	var inHandler trace.SpanContext
	r := router(opts, func(ctx context.Context, _ *warren.Message) error {
		inHandler = trace.SpanContextFromContext(ctx)
		return nil
	})
	msg := warrentest.NewMessage("Order.Created", []byte("12345"), warrentest.WithHeader("traceparent", headers["traceparent"]),
		warrentest.WithExchange("events"), warrentest.WithQueue("shipping"), warrentest.WithMessageID("m-1"),
		warrentest.WithCorrelationID("c-1"), warrentest.WithAttempt(3))
	msg.DeliveryTag = 17
	if rec := warrentest.Serve(r, msg); !rec.Acked() {
		t.Fatalf("outcome %+v", rec.Outcome)
	}

	s := byKind(t, exp, "consumer")
	if s.Name != "process Order.*" {
		t.Errorf("span name %q, want \"process Order.*\"", s.Name)
	}
	if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanContext.TraceID() != parent.SpanContext().TraceID() || !s.Parent.IsRemote() {
		t.Errorf("span parent %v trace %v, want remote parent %v in trace %v",
			s.Parent.SpanID(), s.SpanContext.TraceID(), parent.SpanContext().SpanID(), parent.SpanContext().TraceID())
	}
	if inHandler.SpanID() != s.SpanContext.SpanID() {
		t.Error("the handler's context does not carry the consumer span")
	}
	want := map[string]any{
		"messaging.system":                           "rabbitmq",
		"messaging.operation.name":                   "process",
		"messaging.operation.type":                   "process",
		"messaging.destination.name":                 "events:Order.Created:shipping",
		"messaging.destination.template":             "Order.*",
		"messaging.destination.subscription.name":    "shipping",
		"messaging.rabbitmq.destination.routing_key": "Order.Created",
		"messaging.message.id":                       "m-1",
		"messaging.message.conversation_id":          "c-1",
		"messaging.rabbitmq.message.delivery_tag":    int64(17),
		"warren.route":                               "Order.*",
		"warren.attempt":                             int64(3),
		"warren.outcome":                             "ack",
	}
	exactAttrs(t, s, want)
	if s.Status.Code != codes.Unset {
		t.Errorf("status %v on an ack, want unset", s.Status)
	}
}

func TestMiddlewareFailures(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  codes.Code
		errType string
	}{
		{errors.New("db down"), codes.Error, "_OTHER"},
		{fmt.Errorf("charge: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), codes.Error, "*net.OpError"},
		{warren.Permanent(errors.New("bad")), codes.Error, "permanent"},
		{&warren.DecodeError{Err: errors.New("eof")}, codes.Error, "decode"},
		{warren.Requeue(errors.New("busy")), codes.Error, "requeue"},
		{warren.Drop(errors.New("stale")), codes.Unset, ""},
	} {
		_, exp, opts := setup(t)
		r := router(opts, func(context.Context, *warren.Message) error { return tc.err })
		rec := warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil))
		if rec.Err != tc.err {
			t.Fatalf("%v: the middleware changed the error to %v", tc.err, rec.Err)
		}
		s := byKind(t, exp, "consumer")
		a := attrs(s)
		if s.Status.Code != tc.status || a["warren.outcome"] != rec.Outcome.Action.String() {
			t.Errorf("%v: status %v outcome %v", tc.err, s.Status, a["warren.outcome"])
		}
		if et, _ := a["error.type"].(string); et != tc.errType {
			t.Errorf("%v: error.type %q, want %q", tc.err, et, tc.errType)
		}
		recorded := len(s.Events) == 1 && s.Events[0].Name == "exception"
		if recorded != (tc.status == codes.Error) {
			t.Errorf("%v: events %v", tc.err, s.Events)
		}
	}
}

func TestMiddlewareRecordsPanic(t *testing.T) {
	_, exp, opts := setup(t)
	r := router(opts, func(context.Context, *warren.Message) error { panic("boom") })
	if rec := warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil)); !rec.Retried() {
		t.Fatalf("outcome %+v", rec.Outcome)
	}
	s := byKind(t, exp, "consumer")
	if s.Status.Code != codes.Error || !strings.Contains(s.Status.Description, "boom") || attrs(s)["error.type"] != "*warren.PanicError" {
		t.Errorf("status %v, attributes %v", s.Status, attrs(s))
	}
}

func TestMiddlewareGarbageHeadersStartNewTrace(t *testing.T) {
	valid := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	huge := strings.Repeat("a", 100<<10)
	for name, h := range map[string]amqp.Table{
		"int traceparent":       {"traceparent": int32(42)},
		"bytes traceparent":     {"traceparent": []byte(valid)},
		"table traceparent":     {"traceparent": amqp.Table{"traceparent": valid}},
		"malformed traceparent": {"traceparent": "00-zzzz-b7ad6b7169203331-01"},
		"upper-case hex":        {"traceparent": strings.ToUpper(valid)},
		"100 KB traceparent":    {"traceparent": huge},
		"100 KB valid prefix":   {"traceparent": valid + huge},
		"100 KB baggage":        {"baggage": huge + "=" + huge},
		"nil value":             {"traceparent": nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, exp, opts := setup(t)
			opts = append(opts, tracing.WithPropagator(propagation.NewCompositeTextMapPropagator(w3c, propagation.Baggage{})))
			msg := warrentest.NewMessage("Order.Created", nil)
			msg.Headers = h
			if rec := warrentest.Serve(router(opts, ok), msg); !rec.Acked() {
				t.Fatalf("outcome %+v, want ack", rec.Outcome)
			}
			if s := byKind(t, exp, "consumer"); s.Parent.IsValid() {
				t.Errorf("parent %v, want a new root span", s.Parent)
			}
		})
	}
}

func TestMiddlewareKeepsParentDespiteGarbageTracestate(t *testing.T) {
	_, exp, opts := setup(t)
	msg := warrentest.NewMessage("Order.Created", nil,
		warrentest.WithHeader("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
		warrentest.WithHeader("tracestate", strings.Repeat("k=v,", 25<<10)))
	if rec := warrentest.Serve(router(opts, ok), msg); !rec.Acked() {
		t.Fatalf("outcome %+v", rec.Outcome)
	}
	if s := byKind(t, exp, "consumer"); s.Parent.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("parent %v, want the traceparent's", s.Parent)
	}
}

func TestMiddlewareUsesGlobals(t *testing.T) {
	tp, exp, _ := setup(t)
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(w3c)
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	msg := warrentest.NewMessage("Order.Created", nil,
		warrentest.WithHeader("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
	warrentest.Serve(router(nil, ok), msg)
	if s := byKind(t, exp, "consumer"); s.Parent.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("parent %v, want the traceparent's through the global propagator", s.Parent)
	}
}
