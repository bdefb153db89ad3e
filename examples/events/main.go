// Command events demonstrates the go-micro style events API on RabbitMQ
// (package adapters/events).
//
// It publishes a few order events on one topic. A consumer in the group
// "billing" acks each event it handles; a second consumer, started after
// the events were published, replays them from the time the demo began.
// Then it writes three events to a Store, one with a short TTL, and reads
// them back after that one expired.
//
// Run it with `go run ./examples/events` against AMQP_URL (default
// amqp://guest:guest@127.0.0.1:5672/). Every queue and exchange it
// declares is named after -prefix (default: events-demo- and a random
// suffix); it deletes them before it exits unless -keep is given.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/events"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// OrderPlaced is the demo's event.
type OrderPlaced struct {
	OrderID string `json:"orderId"`
	Total   int    `json:"totalCents"`
}

const topic = "orders.placed"

func main() {
	var b [3]byte
	_, _ = rand.Read(b[:])
	prefix := flag.String("prefix", "events-demo-"+hex.EncodeToString(b[:]), "the start of every name the demo declares (its stream and store name)")
	keep := flag.Bool("keep", false, "leave the queues and exchange in the broker for inspection")
	flag.Parse()
	if err := run(*prefix, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "events demo:", err)
		os.Exit(1)
	}
}

func run(name string, keep bool) error {
	url := os.Getenv("AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName(name))
	if err != nil {
		return err
	}
	defer client.Close()
	if keep {
		defer fmt.Println("kept the queues and exchange named", name+"...")
	} else {
		defer cleanup(client, name)
	}

	stream, err := events.NewStream(client, events.WithName(name))
	if err != nil {
		return err
	}
	defer stream.Close()
	fmt.Println("stream exchange:", stream.Exchange())

	// The group's queue exists from its first Consume on: start the
	// member before publishing.
	billing, err := stream.Consume(topic, events.WithGroup("billing"),
		events.WithAutoAck(false, 10*time.Second), events.ConsumeContext(ctx))
	if err != nil {
		return err
	}

	start := time.Now()
	for i := 1; i <= 3; i++ {
		order := OrderPlaced{OrderID: fmt.Sprintf("o-%d", i), Total: 1000 * i}
		md := map[string]string{"customer": fmt.Sprintf("c-%d", i%2)}
		if err := stream.Publish(topic, order, events.WithMetadata(md)); err != nil {
			return err
		}
		fmt.Println("published", order.OrderID)
	}

	// A consumer without a group, started afterwards, replays from start.
	replay, err := stream.Consume(topic, events.WithOffset(start), events.ConsumeContext(ctx))
	if err != nil {
		return err
	}

	for _, c := range []struct {
		name string
		ch   <-chan events.Event
	}{{"billing", billing}, {"replay", replay}} {
		for i := 0; i < 3; i++ {
			ev, err := next(ctx, c.ch)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			var order OrderPlaced
			if err := ev.Unmarshal(&order); err != nil {
				_ = ev.Nack()
				return err
			}
			if err := ev.Ack(); err != nil { // a no-op for the auto-acked replay
				return err
			}
			fmt.Printf("%-8s got %s (%d cents) for customer %s, attempt %d\n",
				c.name, order.OrderID, order.Total, ev.Metadata["customer"], ev.Attempt())
		}
	}
	if err := stream.Close(); err != nil { // both channels close
		return err
	}

	store, err := events.NewStore(client, events.WithName(name))
	if err != nil {
		return err
	}
	for i, ttl := range []time.Duration{time.Hour, 200 * time.Millisecond, 0} {
		ev := &events.Event{Topic: "audit", Payload: []byte(fmt.Sprintf(`{"entry":%d}`, i))}
		if err := store.Write(ev, events.WithTTL(ttl)); err != nil {
			return err
		}
	}
	time.Sleep(300 * time.Millisecond)
	stored, err := store.Read("audit", events.ReadLimit(10))
	if err != nil {
		return err
	}
	fmt.Printf("store: %d of 3 entries unexpired:", len(stored))
	for _, ev := range stored {
		fmt.Printf(" %s", ev.Payload)
	}
	fmt.Println()
	return nil
}

func next(ctx context.Context, ch <-chan events.Event) (events.Event, error) {
	select {
	case ev, ok := <-ch:
		if !ok {
			return events.Event{}, errors.New("consumer stopped")
		}
		return ev, nil
	case <-ctx.Done():
		return events.Event{}, ctx.Err()
	}
}

// cleanup deletes the queues and the exchange the demo declared (the
// exchange only if nothing else is bound to it).
func cleanup(client *rabbitmq.Client, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ch, err := client.Channel(ctx)
	if err != nil {
		return
	}
	defer ch.Close()
	ex := warren.StreamExchange(name)
	group := events.GroupQueue(ex, "billing", topic)
	stream := events.StreamQueue(ex, topic)
	for _, q := range []string{group, warren.DeadLetterQueue(group), stream, warren.DeadLetterQueue(stream), events.StoreQueue(name, "audit")} {
		_, _ = ch.QueueDelete(q, false, false, false)
	}
	_ = ch.ExchangeDelete(ex, true, false)
}
