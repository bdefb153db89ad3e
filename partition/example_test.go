package partition_test

import (
	"fmt"

	"github.com/warren-mq/warren/partition"
)

func ExampleStream() {
	l := partition.Stream("orders", "billing", 4)
	t, _ := l.Topology([]string{"Order.*"}, nil)
	fmt.Println(t.ExchangeBindings[0].Source, "->", t.ExchangeBindings[0].Destination)
	fmt.Println(l.QueueNames()[3])
	// Output:
	// orders.topic.exchange -> orders.topic.exchange.queue.billing.hash.exchange
	// orders.topic.exchange.queue.billing.p3
}

func ExampleKeyOf() {
	type OrderPlaced struct{ CustomerID string }
	byCustomer := partition.KeyOf(func(o OrderPlaced) string { return o.CustomerID })
	l := partition.Stream("orders", "billing", 8)
	l.Hash = byCustomer.Hash()
	fmt.Println(l.Hash)
	// then: pub.Send(ctx, order, byCustomer.Set(order))
	// Output: header x-warren-partition-key
}
