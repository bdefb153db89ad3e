package integration_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/tracing"
)

// TestTraceCrossesBroker starts a trace in a publisher, sends the message
// through RabbitMQ, and finds the consumer span in the same trace under
// the publish's producer span; the handler publishes a follow-up event
// through its context, and that event's consumer span continues the same
// trace under the first consumer span.
func TestTraceCrossesBroker(t *testing.T) {
	tr := newTracer(t)
	client, _ := dial(t, brokertest.Require(t), tr.dialOption())
	spec := testSpec(t)

	handlerSpans := make(chan trace.SpanContext, 2)
	r := warren.NewRouter()
	r.Use(tracing.Middleware(tr.opts...), middleware.Recover)
	r.HandleFunc("Order.Placed", func(ctx context.Context, msg *warren.Message) error {
		handlerSpans <- trace.SpanContextFromContext(ctx)
		p := &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Shipped"}
		p.MessageId, p.Body = "shipped-1", []byte("{}")
		return warren.Publish(ctx, p)
	})
	r.HandleFunc("Order.Shipped", func(ctx context.Context, msg *warren.Message) error {
		handlerSpans <- trace.SpanContextFromContext(ctx)
		return nil
	})
	run(t, client, r, spec)

	ctx, root := tr.tp.Tracer("checkout").Start(context.Background(), "checkout")
	publish(ctx, t, client.Publisher(), spec.Exchange.Name, "Order.Placed", "placed-1")
	root.End()
	traceID := root.SpanContext().TraceID()
	eventually(t, 15*time.Second, "both consumer spans", func() bool {
		return len(tr.consumerSpans("placed-1")) == 1 && len(tr.consumerSpans("shipped-1")) == 1
	})

	// First hop: publisher -> broker -> consumer.
	placed := tr.consumerSpans("placed-1")[0]
	if placed.SpanContext.TraceID() != traceID {
		t.Fatalf("consumer span in trace %s, want the publisher's %s", placed.SpanContext.TraceID(), traceID)
	}
	producer, ok := tr.span(placed.Parent.SpanID())
	if !ok || producer.SpanKind != trace.SpanKindProducer || !placed.Parent.IsRemote() {
		t.Fatalf("consumer span's parent %v (remote %v) is not the publish's producer span", placed.Parent.SpanID(), placed.Parent.IsRemote())
	}
	if producer.Name != "publish "+spec.Exchange.Name || attr(producer, "messaging.destination.name") != spec.Exchange.Name+":Order.Placed" {
		t.Errorf("producer span %q destination %v, want \"publish %s\" to %s:Order.Placed", producer.Name, attr(producer, "messaging.destination.name"), spec.Exchange.Name, spec.Exchange.Name)
	}
	if producer.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Errorf("producer span's parent %v, want the root span %v", producer.Parent.SpanID(), root.SpanContext().SpanID())
	}
	if got := <-handlerSpans; got.SpanID() != placed.SpanContext.SpanID() {
		t.Errorf("the handler's context carries span %v, want the consumer span %v", got.SpanID(), placed.SpanContext.SpanID())
	}
	for k, want := range map[string]any{
		"messaging.system":                           "rabbitmq",
		"messaging.destination.name":                 spec.Exchange.Name + ":Order.Placed:" + spec.Queue.Name,
		"messaging.destination.template":             "Order.Placed",
		"messaging.operation.type":                   "process",
		"messaging.destination.subscription.name":    spec.Queue.Name,
		"messaging.rabbitmq.destination.routing_key": "Order.Placed",
		"warren.route":                               "Order.Placed",
		"warren.outcome":                             "ack",
	} {
		if got := attr(placed, k); got != want {
			t.Errorf("consumer span attribute %s = %v, want %v", k, got, want)
		}
	}

	// Second hop: the handler's publish -> broker -> consumer.
	shipped := tr.consumerSpans("shipped-1")[0]
	if shipped.SpanContext.TraceID() != traceID {
		t.Fatalf("follow-up consumer span in trace %s, want %s", shipped.SpanContext.TraceID(), traceID)
	}
	if !shipped.Parent.IsRemote() {
		t.Errorf("follow-up consumer span's parent is not remote: not extracted from the headers")
	}
	var path []string
	found := false
	for _, a := range tr.ancestry(shipped) {
		path = append(path, a.SpanKind.String())
		if a.SpanContext.SpanID() == placed.SpanContext.SpanID() {
			found = true
			break
		}
		if a.SpanKind != trace.SpanKindProducer {
			break
		}
	}
	if !found {
		t.Errorf("follow-up consumer span's ancestry %v does not reach the first consumer span through producer spans", path)
	}
	if len(path) != 2 {
		t.Errorf("one publish by the handler made %d nested producer spans (ancestry %v): tracing.Middleware wraps the "+
			"context's publisher and the client's publish middleware wraps it again", len(path)-1, path)
	}
}
