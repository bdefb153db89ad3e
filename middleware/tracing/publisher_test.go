package tracing_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/warrentest"
)

// extracted returns the span context written into h.
func extracted(h amqp.Table) trace.SpanContext {
	return trace.SpanContextFromContext(w3c.Extract(context.Background(), tracing.HeaderCarrier(h)))
}

func TestInjectPublisher(t *testing.T) {
	tp, exp, opts := setup(t)
	rec := warrentest.NewRecorder()
	pub := tracing.InjectPublisher(rec, opts...)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	stale := "00-11111111111111111111111111111111-2222222222222222-01"
	headers := amqp.Table{"x-tenant": "acme", "traceparent": stale}
	before := maps.Clone(headers)
	p := &warren.Publishing{Exchange: "events", RoutingKey: "Order.Created", Publishing: amqp.Publishing{
		Headers: headers, MessageId: "m-1", CorrelationId: "c-1", Body: []byte("{}")}}
	if err := pub.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	parent.End()

	if !maps.Equal(headers, before) || p.Headers["traceparent"] != stale {
		t.Errorf("the caller's headers were modified: %v", headers)
	}
	got := rec.Published()[0]
	if got.Headers["x-tenant"] != "acme" {
		t.Errorf("published headers %v lost the caller's", got.Headers)
	}
	s := byKind(t, exp, "producer")
	if s.Name != "publish events" || s.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("producer span %q with parent %v, want \"publish events\" under %v", s.Name, s.Parent.SpanID(), parent.SpanContext().SpanID())
	}
	if sc := extracted(got.Headers); sc.SpanID() != s.SpanContext.SpanID() || sc.TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("published trace context %v, want the producer span %v", sc, s.SpanContext)
	}
	exactAttrs(t, s, map[string]any{"messaging.system": "rabbitmq", "messaging.operation.type": "send",
		"messaging.operation.name": "publish", "messaging.destination.name": "events:Order.Created",
		"messaging.rabbitmq.destination.routing_key": "Order.Created", "messaging.message.id": "m-1",
		"messaging.message.conversation_id": "c-1"})
}

func TestInjectPublisherNilHeadersAndFailure(t *testing.T) {
	_, exp, opts := setup(t)
	rec := warrentest.NewRecorder()
	rec.PublishErr = errors.New("nacked")
	p := &warren.Publishing{RoutingKey: "reply-q"}
	if err := tracing.InjectPublisher(rec, opts...).Publish(context.Background(), p); err != rec.PublishErr {
		t.Fatalf("err = %v, want the publisher's", err)
	}
	if p.Headers != nil {
		t.Errorf("caller's nil headers replaced by %v", p.Headers)
	}
	s := byKind(t, exp, "producer")
	if s.Name != "publish amq.default" || s.Status.Code != codes.Error || s.Parent.IsValid() || attrs(s)["messaging.destination.name"] != "amq.default:reply-q" {
		t.Errorf("span %q status %v parent %v attrs %v, want a root \"publish amq.default\" span to amq.default:reply-q with an error", s.Name, s.Status, s.Parent, attrs(s))
	}
}

// A trace that starts at a publisher continues in the consumer, and the
// consumer's reply continues it again: the in-process half of the trace
// that crosses RabbitMQ.
func TestTraceCrossesPublishConsumeReply(t *testing.T) {
	tp, exp, opts := setup(t)
	wire := warrentest.NewRecorder() // stands for the broker
	ctx, root := tp.Tracer("test").Start(context.Background(), "checkout")
	err := tracing.InjectPublisher(wire, opts...).Publish(ctx, &warren.Publishing{
		Exchange: "orders", RoutingKey: "Order.Create", Publishing: amqp.Publishing{ReplyTo: "amq.rabbitmq.reply-to"}})
	root.End()
	if err != nil {
		t.Fatal(err)
	}

	sent := wire.Published()[0]
	msg := warrentest.NewMessage(sent.RoutingKey, sent.Body, warrentest.WithExchange(sent.Exchange), warrentest.WithReplyTo(sent.ReplyTo))
	msg.Headers = sent.Headers
	r := router(opts, func(ctx context.Context, msg *warren.Message) error {
		return warren.Reply(ctx, msg, amqp.Publishing{Body: []byte("done")})
	})
	rec := warrentest.Serve(r, msg)
	if !rec.Acked() {
		t.Fatalf("outcome %+v", rec.Outcome)
	}

	consumer := byKind(t, exp, "consumer")
	var producers []tracetestSpan
	for _, s := range exp.GetSpans() {
		if s.SpanKind == trace.SpanKindProducer {
			producers = append(producers, tracetestSpan{s.SpanContext, s.Parent})
		}
	}
	if len(producers) != 2 {
		t.Fatalf("%d producer spans, want the request's and the reply's", len(producers))
	}
	if consumer.SpanContext.TraceID() != root.SpanContext().TraceID() || consumer.Parent.SpanID() != producers[0].sc.SpanID() {
		t.Errorf("consumer span not in the publisher's trace under its producer span")
	}
	if producers[1].parent.SpanID() != consumer.SpanContext.SpanID() {
		t.Errorf("reply's producer span not a child of the consumer span")
	}
	if sc := extracted(rec.Replies()[0].Headers); sc.TraceID() != root.SpanContext().TraceID() || sc.SpanID() != producers[1].sc.SpanID() {
		t.Errorf("reply carries trace context %v, want the reply's producer span", sc)
	}
}

type tracetestSpan struct{ sc, parent trace.SpanContext }
