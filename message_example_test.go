package warren_test

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

// A handler that keeps a message after it returns keeps a clone: the
// transport reuses the Message, its Body and its Headers.
func ExampleMessage_Clone() {
	var kept []*warren.Message
	h := warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
		kept = append(kept, m.Clone())
		return nil
	})
	m := warrentest.NewMessage("Order.Created", []byte("o-1"))
	warrentest.Serve(h, m)
	m.Body[0] = 'X' // the transport reuses the buffer
	fmt.Println(string(kept[0].Body))
	// Output: o-1
}

// Typed handlers receive a decoded value; the delivery's metadata is in
// their context.
func ExampleMessageFromContext() {
	h := warren.Typed(func(ctx context.Context, o OrderCreated) error {
		m := warren.MessageFromContext(ctx)
		fmt.Println(o.ID, m.RoutingKey, m.Attempt)
		return nil
	})
	warrentest.Serve(h, warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "o-1"}, warrentest.WithAttempt(3)))
	// Output: o-1 Order.Created 3
}

// Deaths reads the broker's x-death header; AttemptOf reads warren's own
// attempt count. Both tolerate headers of any shape.
func ExampleDeaths() {
	h := amqp.Table{
		warren.HeaderAttempt: int32(3),
		"x-death": []any{amqp.Table{
			"queue": "orders", "reason": "rejected", "count": int64(2),
			"exchange": "events.topic.exchange", "routing-keys": []any{"Order.Created"},
			"time": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		}},
	}
	for _, d := range warren.Deaths(h) {
		fmt.Println(d.Queue, d.Reason, d.Count, d.RoutingKeys)
	}
	fmt.Println(warren.AttemptOf(h))
	fmt.Println(warren.AttemptOf(amqp.Table{warren.HeaderAttempt: "garbage"}))
	// Output:
	// orders rejected 2 [Order.Created]
	// 3 true
	// 0 false
}

// Codecs chooses the codec by the message's content type; JSON is always
// there, for "application/json", "+json" types and bodies without a type.
func ExampleNewCodecs() {
	codecs := warren.NewCodecs()
	for _, ct := range []string{"application/json", "application/cloudevents+json; charset=utf-8", "", "text/csv"} {
		c, err := codecs.For(ct)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(c.ContentType())
	}
	// Output:
	// application/json
	// application/json
	// application/json
	// warren: no codec for content type "text/csv"
}

// HeaderString and HeaderInt read headers of any publisher: a value of the
// wrong type reads as missing, never as a panic.
func ExampleHeaderInt() {
	h := amqp.Table{"retries": int16(4), "count": "12", "ratio": 0.5, "tenant": []byte("acme")}
	fmt.Println(warren.HeaderInt(h, "retries"))
	fmt.Println(warren.HeaderInt(h, "count"))
	fmt.Println(warren.HeaderInt(h, "ratio"))
	fmt.Println(warren.HeaderString(h, "tenant"))
	// Output:
	// 4 true
	// 12 true
	// 0 false
	// acme true
}

// BoundedString cuts a value warren writes into a header, without splitting
// a UTF-8 sequence.
func ExampleBoundedString() {
	fmt.Println(warren.BoundedString("connection refused by db-1", 16))
	fmt.Println(warren.BoundedString("short", warren.MaxHeaderValue))
	// Output:
	// connection re...
	// short
}
