package asyncapi_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/asyncapi"
)

// The AsyncAPI document of a service that consumes Order.Created and
// publishes Parcel.Shipped.
func ExampleDocument() {
	type OrderCreated struct {
		OrderID string `json:"orderId"`
	}
	type ParcelShipped struct {
		OrderID string `json:"orderId"`
		Carrier string `json:"carrier,omitempty"`
	}
	r := warren.NewRouter()
	r.Handle("Order.Created", warren.Typed(func(context.Context, OrderCreated) error { return nil }))
	top, _ := warren.ConsumerTopology(warren.Exchange{Name: warren.EventExchange, Durable: true},
		warren.Queue{Name: warren.ServiceQueue(warren.EventExchange, "shipping"), Durable: true}, r.Routes(), nil)

	doc, err := asyncapi.Document(warren.Describe("shipping", r, top,
		warren.WithSend[ParcelShipped](warren.EventExchange, "Parcel.Shipped")), asyncapi.WithVersion("1.0.0"))
	if err != nil {
		panic(err)
	}
	ops := doc["operations"].(map[string]any)
	ids := make([]string, 0, len(ops))
	for id := range ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Println(id, ops[id].(map[string]any)["action"])
	}
	// asyncapi.Write(os.Stdout, ...) prints the whole document as JSON.
	// Output:
	// receive_events_topic_exchange_Order_Created receive
	// send_events_topic_exchange_Parcel_Shipped send
}
