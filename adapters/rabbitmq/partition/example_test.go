package partition_test

import (
	"context"
	"fmt"
	"log"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	rpartition "github.com/warren-mq/warren/adapters/rabbitmq/partition"
	"github.com/warren-mq/warren/partition"
)

type OrderPlaced struct{ CustomerID string }

// ExampleNew spreads billing's share of the orders stream over 8
// partitions keyed by customer; every instance of billing runs the same
// code, and each partition is handled by one of them at a time, in order.
func ExampleNew() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@127.0.0.1:5672/", rabbitmq.WithName("billing"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	byCustomer := partition.KeyOf(func(o OrderPlaced) string { return o.CustomerID })
	layout := partition.Stream("orders", "billing", 8)
	layout.Hash = byCustomer.Hash()

	r := warren.NewRouter()
	r.Handle("Order.Placed", warren.Typed(func(ctx context.Context, o OrderPlaced) error { return nil }))
	c, err := rpartition.New(ctx, client, r, layout,
		rpartition.OnActivity(func(e rpartition.ActivityEvent) { fmt.Println(e.Queue, "active:", e.Active) }))
	if err != nil {
		log.Fatal(err) // rpartition.ErrNoHashExchange: enable the plugin
	}
	for i := 0; i < layout.Partitions; i++ {
		prometheus.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "billing_partition_active", ConstLabels: prometheus.Labels{"partition": fmt.Sprint(i)},
		}, func() float64 {
			if c.IsActive(i) {
				return 1
			}
			return 0
		}))
	}
	go func() { _ = c.Run(ctx) }()

	// Publishers set the key from the message:
	pub, _ := client.NewPublisher(ctx, layout.Exchange, rabbitmq.WithTypeKeys(rabbitmq.KeyFor[OrderPlaced]("Order.Placed")))
	order := OrderPlaced{CustomerID: "c-42"}
	_ = pub.Send(ctx, order, byCustomer.Set(order))
}
