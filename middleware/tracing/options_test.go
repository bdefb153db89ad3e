package tracing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/warrentest"
)

// TestOptionalAttributesAndSettleSpans checks every attribute of the
// process, settle and reply (publish) spans with all options on.
func TestOptionalAttributesAndSettleSpans(t *testing.T) {
	_, exp, opts := setup(t)
	opts = append(opts, tracing.WithServerURL("amqp://app:s3cret@mq.internal/prod"), tracing.WithClientID("orders.consume"),
		tracing.WithBodySize(), tracing.WithSettleSpans())
	r := router(opts, func(ctx context.Context, msg *warren.Message) error {
		return warren.Reply(ctx, msg, amqp.Publishing{Body: []byte("ok")})
	})
	msg := warrentest.NewMessage("Order.Created", []byte("12345"), warrentest.WithExchange("events"), warrentest.WithQueue("shipping"),
		warrentest.WithReplyTo("amq.gen-reply"), warrentest.WithCorrelationID("c-1"), warrentest.WithMessageID("m-1"))
	rec := warrentest.Serve(r, msg)
	if !rec.Acked() {
		t.Fatalf("outcome %+v", rec.Outcome)
	}
	common := map[string]any{"messaging.system": "rabbitmq", "server.address": "mq.internal", "server.port": int64(5672),
		"messaging.client.id": "orders.consume"}
	with := func(m map[string]any) map[string]any {
		for k, v := range common {
			m[k] = v
		}
		return m
	}
	process := byKind(t, exp, "consumer")
	exactAttrs(t, process, with(map[string]any{"messaging.operation.name": "process", "messaging.operation.type": "process",
		"messaging.destination.name": "events:Order.Created:shipping", "messaging.destination.template": "Order.*",
		"messaging.destination.subscription.name": "shipping", "messaging.rabbitmq.destination.routing_key": "Order.Created",
		"messaging.message.conversation_id": "c-1", "messaging.message.id": "m-1", "messaging.message.body.size": int64(5),
		"warren.route": "Order.*", "warren.attempt": int64(1), "warren.outcome": "ack"}))
	settle := byKind(t, exp, "client")
	if settle.Name != "ack Order.*" || settle.Parent.SpanID() != process.SpanContext.SpanID() {
		t.Errorf("settle span %q parent %v, want \"ack Order.*\" under the process span", settle.Name, settle.Parent.SpanID())
	}
	exactAttrs(t, settle, with(map[string]any{"messaging.operation.name": "ack", "messaging.operation.type": "settle",
		"messaging.destination.name": "events:Order.Created:shipping", "messaging.destination.template": "Order.*",
		"messaging.destination.subscription.name": "shipping", "messaging.rabbitmq.destination.routing_key": "Order.Created",
		"messaging.message.conversation_id": "c-1", "messaging.message.id": "m-1", "messaging.message.body.size": int64(5)}))
	reply := byKind(t, exp, "producer")
	if reply.Name != "publish amq.default" || reply.Parent.SpanID() != process.SpanContext.SpanID() {
		t.Errorf("reply span %q parent %v", reply.Name, reply.Parent.SpanID())
	}
	exactAttrs(t, reply, with(map[string]any{"messaging.operation.name": "publish", "messaging.operation.type": "send",
		"messaging.destination.name": "amq.default:amq.gen-reply", "messaging.rabbitmq.destination.routing_key": "amq.gen-reply",
		"messaging.message.conversation_id": "c-1", "messaging.message.body.size": int64(2)}))
	for _, s := range exp.GetSpans() {
		if s.InstrumentationScope.Name != tracing.ScopeName || s.InstrumentationScope.Version == "" {
			t.Errorf("%s: scope %+v, want %s with a version", s.Name, s.InstrumentationScope, tracing.ScopeName)
		}
	}
}

func TestSettleSpanNames(t *testing.T) {
	for err, want := range map[error]string{
		errors.New("db down"):               "retry Order.*",
		warren.Permanent(errors.New("bad")): "dead-letter Order.*",
		warren.Requeue(errors.New("busy")):  "requeue Order.*",
	} {
		_, exp, opts := setup(t)
		r := router(append(opts, tracing.WithSettleSpans()), func(context.Context, *warren.Message) error { return err })
		warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil))
		if s := byKind(t, exp, "client"); s.Name != want || attrs(s)["messaging.operation.type"] != "settle" {
			t.Errorf("%v: settle span %q %v, want %q", err, s.Name, attrs(s), want)
		}
	}
}

func TestWithLinks(t *testing.T) {
	tp, exp, opts := setup(t)
	pctx, parent := tp.Tracer("test").Start(context.Background(), "upstream")
	headers := amqp.Table{}
	w3c.Inject(pctx, tracing.HeaderCarrier(headers))
	parent.End()
	r := router(append(opts, tracing.WithLinks()), ok)
	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil, warrentest.WithHeader("traceparent", headers["traceparent"])))
	s := byKind(t, exp, "consumer")
	if s.Parent.IsValid() || s.SpanContext.TraceID() == parent.SpanContext().TraceID() {
		t.Errorf("process span parent %v trace %v, want a new root", s.Parent, s.SpanContext.TraceID())
	}
	if len(s.Links) != 1 || s.Links[0].SpanContext.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("links %v, want one to the publisher's span", s.Links)
	}
}

// TestSpansRedactCredentials pushes a URL with a password and a password=
// pair through the span status and the exception event of a process span
// and a publish span.
func TestSpansRedactCredentials(t *testing.T) {
	leak := errors.New("dial postgres://app:s3cret@db/orders failed, password=hunter2")
	_, exp, opts := setup(t)
	r := router(opts, func(ctx context.Context, msg *warren.Message) error { return leak })
	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil))
	rec := warrentest.NewRecorder()
	rec.PublishErr = leak
	_ = tracing.InjectPublisher(rec, opts...).Publish(context.Background(), &warren.Publishing{Exchange: "events"})
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	for _, s := range spans {
		if text := spanText(s); strings.Contains(text, "s3cret") || strings.Contains(text, "hunter2") || !strings.Contains(text, "xxxxx") {
			t.Errorf("%s leaks or lost the error: %s", s.Name, text)
		}
	}
}

// spanText is everything a span exports as text.
func spanText(s tracetest.SpanStub) string {
	var b strings.Builder
	b.WriteString(s.Name + " " + s.Status.Description)
	for _, kv := range s.Attributes {
		b.WriteString(" " + kv.Value.String())
	}
	for _, e := range s.Events {
		b.WriteString(" " + e.Name)
		for _, kv := range e.Attributes {
			b.WriteString(" " + kv.Value.String())
		}
	}
	return b.String()
}
