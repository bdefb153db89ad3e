package warren_test

import (
	"fmt"
	"time"

	"github.com/warren-mq/warren"
)

// The naming conventions of the queues and exchanges warren declares.
func ExampleServiceQueue() {
	q := warren.ServiceQueue(warren.EventExchange, "shipping-service")
	fmt.Println(q)
	fmt.Println(warren.DeadLetterQueue(q))
	fmt.Println(warren.WaitQueue(q, 5*time.Second))
	fmt.Println(warren.RequestQueue("pricing"))
	// Output:
	// events.topic.exchange.queue.shipping-service
	// events.topic.exchange.queue.shipping-service.dlq
	// events.topic.exchange.queue.shipping-service.retry.5s
	// pricing.direct.exchange.request.queue
}

// Retry delays are written without dots, so that a wait queue's name has
// the same number of words whatever the delay.
func ExampleFormatDelay() {
	for _, d := range []time.Duration{200 * time.Millisecond, 1500 * time.Millisecond, 90 * time.Second, 2 * time.Hour} {
		fmt.Println(warren.FormatDelay(d), warren.WaitQueue("orders", d))
	}
	// Output:
	// 200ms orders.retry.200ms
	// 1500ms orders.retry.1500ms
	// 1m30s orders.retry.1m30s
	// 2h orders.retry.2h
}

// ConsumerTopology describes, as data, what a consumer declares: its
// exchange, work queue and bindings, the dead-letter queue and one wait
// queue per retry delay.
func ExampleConsumerTopology() {
	top, err := warren.ConsumerTopology(
		warren.Exchange{Name: warren.EventExchange, Durable: true},
		warren.Queue{Name: "orders", Durable: true, Type: warren.Quorum},
		[]string{"Order.*"},
		[]time.Duration{time.Second})
	if err != nil {
		panic(err)
	}
	for _, b := range top.Bindings {
		fmt.Println("bind", b.Queue, "to", b.Exchange, "with", b.Key)
	}
	for _, q := range top.Queues {
		fmt.Println("queue", q.Name, "dead-letters to", q.Args["x-dead-letter-routing-key"])
	}
	// Output:
	// bind orders to events.topic.exchange with Order.*
	// queue orders dead-letters to orders.dlq
	// queue orders.dlq dead-letters to <nil>
	// queue orders.retry.1s dead-letters to orders
}
