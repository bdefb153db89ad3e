package warren_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

// Mounting routes on topic patterns: the most specific route wins.
func ExampleRouter() {
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(ctx context.Context, m *warren.Message) error {
		fmt.Println("created:", string(m.Body))
		return nil
	})
	r.HandleFunc("Order.*", func(ctx context.Context, m *warren.Message) error {
		fmt.Println("other order event:", m.RoutingKey)
		return nil
	})
	r.HandleFunc("audit.#", func(ctx context.Context, m *warren.Message) error {
		fmt.Println("audit:", m.RoutingKey)
		return nil
	})

	for _, key := range []string{"Order.Created", "Order.Shipped", "audit.login.failed"} {
		warrentest.Serve(r, warrentest.NewMessage(key, []byte("o-1")))
	}
	fmt.Println(r.Routes())
	// Output:
	// created: o-1
	// other order event: Order.Shipped
	// audit: audit.login.failed
	// [Order.Created Order.* audit.#]
}

// Route mounts a sub-router under a prefix of words, with middleware of its
// own.
func ExampleRouter_Route() {
	r := warren.NewRouter()
	r.Route("Order", func(orders *warren.Router) {
		orders.HandleFunc("Created", func(context.Context, *warren.Message) error { return nil })
		orders.HandleFunc("#", func(context.Context, *warren.Message) error { return nil })
	})
	fmt.Println(r.Routes())
	// Output: [Order.Created Order.#]
}

// A middleware is a function from Handler to Handler. This one times every
// message and reports the settlement the handler's result asks for.
func ExampleMiddleware() {
	timing := func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
			start := time.Now()
			err := next.ServeMessage(ctx, m)
			_ = time.Since(start) // record it somewhere
			fmt.Printf("%s via %s: %v\n", m.RoutingKey, m.Route, warren.OutcomeOf(err).Action)
			return err
		})
	}
	r := warren.NewRouter()
	r.Use(timing)
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { return errors.New("db down") })
	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil))
	warrentest.Serve(r, warrentest.NewMessage("User.Created", nil))
	// Output:
	// Order.Created via Order.*: retry
	// User.Created via : dead-letter
}

type OrderCreated struct {
	ID    string `json:"id"`
	Total int    `json:"total"`
}

// Typed handlers receive the decoded body; a body that does not decode is
// dead-lettered with reason "decode".
func ExampleTyped() {
	h := warren.Typed(func(ctx context.Context, o OrderCreated) error {
		if o.Total < 0 {
			return warren.Permanent(fmt.Errorf("order %s: negative total", o.ID))
		}
		fmt.Println("order", o.ID, "total", o.Total)
		return nil
	})
	warrentest.Serve(h, warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "o-1", Total: 30}))
	rec := warrentest.Serve(h, warrentest.NewMessage("Order.Created", []byte("{not json")))
	fmt.Println(rec.DeadLettered())
	// Output:
	// order o-1 total 30
	// decode true
}

// Testing a handler with warrentest: serve one message and read back the
// outcome and what was published.
func ExampleTypedReply() {
	type Query struct{ SKU string }
	type Price struct{ Cents int }
	h := warren.TypedReply(func(ctx context.Context, q Query) (Price, error) {
		return Price{Cents: 1299}, nil
	})
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("pricing.get", Query{SKU: "A1"},
		warrentest.WithReplyTo("amq.rabbitmq.reply-to.x"), warrentest.WithCorrelationID("c-1")))
	reply := rec.Replies()[0]
	fmt.Println(rec.Acked(), reply.RoutingKey, reply.CorrelationId, string(reply.Body))
	// Output: true amq.rabbitmq.reply-to.x c-1 {"Cents":1299}
}

// OutcomeOf maps a handler's error to the settlement.
func ExampleOutcomeOf() {
	for _, err := range []error{
		nil,
		errors.New("timeout talking to db"),
		warren.Permanent(errors.New("invalid order")),
		warren.Requeue(errors.New("not my turn")),
		warren.Drop(errors.New("duplicate")),
	} {
		o := warren.OutcomeOf(err)
		fmt.Println(strings.TrimSpace(o.Action.String() + " " + o.Reason))
	}
	// Output:
	// ack
	// retry
	// dead-letter permanent
	// requeue
	// drop
}

func ExampleParsePattern() {
	p, _ := warren.ParsePattern("Order.#")
	fmt.Println(p.Match("Order"), p.Match("Order.Created.v2"), p.Match("User.Created"))
	_, err := warren.ParsePattern("Order*")
	fmt.Println(err)
	// Output:
	// true true false
	// warren: malformed pattern "Order*": word 1 ("Order*") mixes a wildcard with other characters; '*' and '#' must stand alone between dots
}
