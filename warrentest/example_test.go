package warrentest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

// NewMessage builds a message as the transport hands it to a router; options
// set what a test needs beyond the routing key and body.
func ExampleNewMessage() {
	m := warrentest.NewMessage("Order.Created", []byte(`{"id":"o-1"}`),
		warrentest.WithQueue("orders"),
		warrentest.WithHeader("tenant", "acme"),
		warrentest.WithAttempt(2))
	fmt.Println(m.RoutingKey, m.Queue, m.Attempt, m.Header("tenant"), string(m.Body), m.MessageID != "")
	// Output: Order.Created orders 2 acme {"id":"o-1"} true
}

// NewJSONMessage encodes a value as the body, with the JSON content type.
func ExampleNewJSONMessage() {
	m := warrentest.NewJSONMessage("Order.Created", map[string]int{"total": 30})
	fmt.Println(m.ContentType, string(m.Body))
	// Output: application/json {"total":30}
}

// Serve runs one message through a handler, here a router, and reports the
// settlement the transport would perform.
func ExampleServe() {
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(ctx context.Context, m *warren.Message) error { return nil })
	r.HandleFunc("Order.Cancelled", func(ctx context.Context, m *warren.Message) error {
		return warren.Permanent(errors.New("cannot cancel a shipped order"))
	})

	fmt.Println(warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil)).Acked())
	fmt.Println(warrentest.Serve(r, warrentest.NewMessage("Order.Cancelled", nil)).DeadLettered())
	fmt.Println(warrentest.Serve(r, warrentest.NewMessage("User.Created", nil)).DeadLettered())
	// Output:
	// true
	// permanent true
	// no-route true
}

// A Recorder is the publisher of the handler's context: it keeps what the
// handler published. Setting PublishErr makes every publish fail, to test
// how the handler copes.
func ExampleRecorder() {
	h := warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
		return warren.Publish(ctx, &warren.Publishing{
			Exchange: warren.EventExchange, RoutingKey: "Order.Shipped",
		})
	})

	rec := warrentest.NewRecorder()
	rec.Serve(context.Background(), h, warrentest.NewMessage("Order.Paid", nil))
	for _, p := range rec.Published() {
		fmt.Println("published", p.Exchange, p.RoutingKey)
	}
	fmt.Println("acked:", rec.Acked())

	failing := &warrentest.Recorder{PublishErr: errors.New("broker unreachable")}
	failing.Serve(context.Background(), h, warrentest.NewMessage("Order.Paid", nil))
	fmt.Println("retried:", failing.Retried(), "published:", len(failing.Published()))
	// Output:
	// published events.topic.exchange Order.Shipped
	// acked: true
	// retried: true published: 0
}

// Replies holds what was published to reply queues: the answers of a
// request handler.
func ExampleRecorder_Replies() {
	h := warren.TypedReply(func(ctx context.Context, q struct{ SKU string }) (int, error) {
		return 1299, nil
	})
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", struct{ SKU string }{"A1"},
		warrentest.WithReplyTo("caller.replies"), warrentest.WithCorrelationID("c-7")))
	r := rec.Replies()[0]
	fmt.Println(r.RoutingKey, r.CorrelationId, string(r.Body))
	// Output: caller.replies c-7 1299
}
