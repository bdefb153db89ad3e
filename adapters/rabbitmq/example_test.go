package rabbitmq_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// brokerURL is the broker the runnable examples use (make broker).
const brokerURL = "amqp://guest:guest@localhost:5672/"

type OrderShipped struct{ ID int }

// Dial connects (one consuming and one publishing connection) and recovers
// lost connections in the background; the name labels the connections in
// the broker's management UI.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("shipping"), rabbitmq.WithHeartbeat(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	fmt.Println(client.Name())
	// Output: shipping
}

// A consumer declares its topology in NewConsumer, consumes in Run, and a
// publisher bound to the exchange sends typed values with Send, by the
// routing key WithTypeKeys maps their type to.
func ExamplePublisher_Send() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("shipping"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	spec := rabbitmq.TopicSpec("example-"+warren.NewMessageID(), "shipping")
	defer func() { // the example leaves nothing behind
		ch, err := client.Channel(context.Background())
		if err != nil {
			return
		}
		defer ch.Close()
		_, _ = ch.QueueDelete(spec.Queue.Name, false, false, false)
		_, _ = ch.QueueDelete(warren.DeadLetterQueue(spec.Queue.Name), false, false, false)
		_ = ch.ExchangeDelete(spec.Exchange.Name, false, false)
	}()

	handled := make(chan int, 1)
	r := warren.NewRouter()
	r.Handle("Order.Shipped", warren.Typed(func(ctx context.Context, o OrderShipped) error {
		handled <- o.ID
		return nil
	}))
	consumer, err := client.NewConsumer(ctx, r, spec, rabbitmq.WithWorkers(4))
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- consumer.Run(context.Background()) }()

	pub, err := client.NewPublisher(ctx, spec.Exchange, rabbitmq.WithTypeKeys(rabbitmq.KeyFor[OrderShipped]("Order.Shipped")))
	if err != nil {
		log.Fatal(err)
	}
	if err := pub.Send(ctx, OrderShipped{ID: 42}); err != nil { // returns once the broker confirmed it
		log.Fatal(err)
	}
	fmt.Println("handled order", <-handled)

	if err := consumer.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Run returned", <-done)
	// Output:
	// handled order 42
	// Run returned <nil>
}

// NewConsumer takes a context: it declares the exchange, the queue with one
// binding per route, its dead-letter queue and, with WithRetry, the wait
// queues, waiting up to ctx for a lost connection to recover.
func ExampleClient_NewConsumer() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("shipping"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	r := warren.NewRouter()
	r.HandleFunc("Order.*", func(ctx context.Context, m *warren.Message) error { return nil })
	declareCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	consumer, err := client.NewConsumer(declareCtx, r, rabbitmq.EventStream("shipping"),
		rabbitmq.WithWorkers(16), rabbitmq.WithPrefetch(64))
	if err != nil {
		log.Fatal(err) // a *TopologyError names the queue and argument the broker refused
	}
	_ = consumer.Run(ctx)
}

// Run consumes until its context is cancelled, then shuts down gracefully:
// it stops taking deliveries, lets the handlers in flight finish (up to
// WithShutdownTimeout) and returns nil.
func ExampleConsumer_Run() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("shipping"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	r := warren.NewRouter()
	r.HandleFunc("Order.*", func(ctx context.Context, m *warren.Message) error { return nil })
	consumer, err := client.NewConsumer(ctx, r, rabbitmq.EventStream("shipping"),
		rabbitmq.WithShutdownTimeout(20*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	if err := consumer.Run(ctx); err != nil { // nil after Ctrl-C and a graceful shutdown
		log.Fatal(err)
	}
}

// Shutdown stops a running consumer from elsewhere (an HTTP server's
// shutdown hook, a test), bounded by its own context.
func ExampleConsumer_Shutdown() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("shipping"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	r := warren.NewRouter()
	r.HandleFunc("Order.*", func(ctx context.Context, m *warren.Message) error { return nil })
	consumer, err := client.NewConsumer(ctx, r, rabbitmq.EventStream("shipping"))
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- consumer.Run(ctx) }()

	// ... later:
	shutdownCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := consumer.Shutdown(shutdownCtx); err != nil {
		log.Print(err) // handlers still running when shutdownCtx ended were cancelled
	}
	<-done
}

// NewEventPublisher publishes to the event stream exchange
// (events.topic.exchange), the one EventStream consumers bind to.
func ExampleClient_NewEventPublisher() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, brokerURL, rabbitmq.WithName("orders"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	pub, err := client.NewEventPublisher(ctx, rabbitmq.WithTypeKeys(rabbitmq.KeyFor[OrderShipped]("Order.Shipped")))
	if err != nil {
		log.Fatal(err)
	}
	if err := pub.Send(ctx, OrderShipped{ID: 42}); err != nil {
		log.Fatal(err)
	}
}
