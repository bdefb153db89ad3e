package goamqp_test

import (
	"context"
	"fmt"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	goamqp "github.com/warren-mq/warren/compat/goamqp"
	"github.com/warren-mq/warren/warrentest"
)

// ExampleRoute mounts a goamqp-style handler, one function for two types
// switching over pointers, on a warren router.
func ExampleRoute() {
	r := warren.NewRouter()
	goamqp.Route(r, goamqp.Types{"Order.Created": OrderCreated{}, "Order.Updated": OrderUpdated{}},
		func(msg any, h goamqp.Headers) (any, error) {
			switch m := msg.(type) {
			case *OrderCreated:
				fmt.Println("created", m.ID, "from", h.Get("service"))
			case *OrderUpdated:
				fmt.Println("updated", m.ID, m.Status)
			}
			return nil, nil
		})
	warrentest.Serve(r, warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "42"}, warrentest.WithHeader("service", "shop")))
	warrentest.Serve(r, warrentest.NewJSONMessage("Order.Updated", OrderUpdated{ID: "42", Status: "paid"}))
	// Output:
	// created 42 from shop
	// updated 42 paid
}

// ExampleResponder answers a goamqp caller on the service's response
// exchange, addressed by the caller's service header.
func ExampleResponder() {
	h := goamqp.Responder("pricing", func(_ context.Context, q PriceQuery) (Price, error) {
		return Price{SKU: q.SKU, Cents: 250}, nil
	})
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", PriceQuery{SKU: "a-1"}, warrentest.WithHeader("service", "shop")))
	p := rec.Published()[0]
	fmt.Println(p.Exchange, p.RoutingKey, p.Headers["service"], string(p.Body))
	// Output:
	// pricing.headers.exchange.response Price.Get shop {"sku":"a-1","cents":250}
}

// ExampleNewCaller calls a goamqp service ("pricing") from a warren client
// the goamqp way. (Not run: it needs a broker and the service.)
func ExampleNewCaller() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/", rabbitmq.WithName("shop"))
	if err != nil {
		panic(err)
	}
	defer client.Close()
	caller, err := goamqp.NewCaller(ctx, client, "pricing")
	if err != nil {
		panic(err)
	}
	defer caller.Close()
	var p Price
	if err := caller.Call(ctx, "Price.Get", PriceQuery{SKU: "a-1"}, &p); err != nil {
		panic(err)
	}
	fmt.Println(p.Cents)
}
