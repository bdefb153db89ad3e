package warren_test

import (
	"context"
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
