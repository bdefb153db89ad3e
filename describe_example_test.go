package warren_test

import (
	"context"
	"fmt"
	"os"

	"github.com/warren-mq/warren"
)

// A service prints its description for `warren routes` and
// `warren topology`.
func ExampleWriteDescription() {
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { return nil })
	t, _ := warren.ConsumerTopology(warren.Exchange{Name: warren.EventExchange, Durable: true},
		warren.Queue{Name: warren.ServiceQueue(warren.EventExchange, "stat"), Durable: true}, r.Routes(), nil)
	t.Queues = t.Queues[1:] // keep the example short: the DLQ only
	_ = warren.WriteDescription(os.Stdout, "stat", r, t)
	// Output:
	// {
	//   "service": "stat",
	//   "routes": [
	//     "Order.Created"
	//   ],
	//   "topology": {
	//     "exchanges": [
	//       {
	//         "name": "events.topic.exchange",
	//         "kind": "topic",
	//         "durable": true
	//       }
	//     ],
	//     "queues": [
	//       {
	//         "name": "events.topic.exchange.queue.stat.dlq",
	//         "durable": true
	//       }
	//     ],
	//     "bindings": [
	//       {
	//         "exchange": "events.topic.exchange",
	//         "queue": "events.topic.exchange.queue.stat",
	//         "key": "Order.Created"
	//       }
	//     ]
	//   }
	// }
}

// A service that publishes names what it sends, with the payload types,
// for `warren asyncapi`.
func ExampleWithSend() {
	type ParcelShipped struct {
		OrderID string `json:"orderId"`
		Carrier string `json:"carrier,omitempty"`
	}
	d := warren.Describe("shipping", nil, warren.Topology{},
		warren.WithSend[ParcelShipped](warren.EventExchange, "Parcel.Shipped"))
	fmt.Println(d.Sends[0].Exchange, d.Sends[0].Key, d.Sends[0].Payload.Name)
	fmt.Println(string(d.Sends[0].Payload.JSON))
	// Output:
	// events.topic.exchange Parcel.Shipped ParcelShipped
	// {"properties":{"carrier":{"type":"string"},"orderId":{"type":"string"}},"required":["orderId"],"type":"object"}
}

// Typed routes record their payload types in the description.
func ExampleDescribe() {
	type PriceQuery struct {
		SKU string `json:"sku"`
	}
	type Price struct {
		Cents int `json:"cents"`
	}
	r := warren.NewRouter()
	r.Handle("Price.Get", warren.TypedReply(func(context.Context, PriceQuery) (Price, error) { return Price{}, nil }))
	d := warren.Describe("pricing", r, warren.Topology{})
	p := d.Payloads[0]
	fmt.Println(p.Pattern, p.Payload.Name, "->", p.Reply.Name)
	// Output:
	// Price.Get PriceQuery -> Price
}
