package rabbitmq_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// A client of a cluster gets every node: the first that answers takes the
// connections, and a lost node costs one reconnect to the next. Here the
// first endpoint is down and the client is on the second.
func ExampleWithEndpoints() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@127.0.0.1:1/",
		rabbitmq.WithEndpoints(brokerURL), rabbitmq.WithName("shipping"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	consume, publish := client.ConnectedTo()
	fmt.Println(consume, publish)
	// Output: localhost:5672 localhost:5672
}

// On a cluster, the work queue, its DLQ and wait queues are quorum queues
// (replicated), their leaders spread over the nodes; the work queue gets a
// delivery limit against poison messages.
func ExampleWithQueueType() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("example-quorum"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	router := warren.NewRouter()
	router.HandleFunc("Order.#", func(context.Context, *warren.Message) error { return nil })
	spec := rabbitmq.TopicSpec("example-quorum", "shipping")
	cons, err := client.NewConsumer(ctx, router, spec,
		rabbitmq.WithQueueType(warren.Quorum), rabbitmq.WithLeaderLocator(rabbitmq.LeaderBalanced))
	if err != nil {
		log.Fatal(err)
	}
	for _, q := range cons.Topology().Queues {
		fmt.Println(q.Name, q.Type, q.Args["x-delivery-limit"])
	}
	ch, err := client.Channel(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer ch.Close()
	for _, q := range cons.Topology().Queues {
		_, _ = ch.QueueDelete(q.Name, false, false, false)
	}
	_ = ch.ExchangeDelete(spec.Exchange.Name, false, false)
	// Output:
	// example-quorum.topic.exchange.queue.shipping quorum 20
	// example-quorum.topic.exchange.queue.shipping.dlq quorum <nil>
}

// Send with WithSendRetry publishes again, with the same message id, when
// the node died under the publish (ErrConfirmLost) or its confirm did not
// come in time.
func ExampleWithSendRetry() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("example-send-retry"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	pub, err := client.NewEventPublisher(ctx,
		rabbitmq.WithTypeKeys(rabbitmq.KeyFor[OrderShipped]("Order.Shipped")), rabbitmq.WithSendRetry(5))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pub.Send(ctx, OrderShipped{ID: 7}))
	// Output: <nil>
}
