package events_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/warren-mq/warren/adapters/events"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

func ExampleNewStream() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/", rabbitmq.WithName("billing"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	stream, err := events.NewStream(client) // exchange events.topic.exchange
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close() // before client.Close
}

func ExampleStream_Publish() {
	var stream events.Stream // from events.NewStream
	type OrderPlaced struct {
		ID    string
		Total int
	}
	err := stream.Publish("orders.placed", OrderPlaced{ID: "o-1", Total: 42},
		events.WithMetadata(map[string]string{"customer": "c-7"}))
	if err != nil {
		log.Print(err) // not confirmed by the broker
	}
}

func ExampleStream_Consume() {
	var stream events.Stream // from events.NewStream
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // stops the consumer and closes its channel
	ch, err := stream.Consume("orders.placed",
		events.WithGroup("billing"),               // share the work with billing's other instances
		events.WithAutoAck(false, 30*time.Second), // ack each event; redelivered after 30s without
		events.WithRetryLimit(5),                  // then to the dead-letter queue
		events.ConsumeContext(ctx))
	if err != nil {
		log.Fatal(err)
	}
	for ev := range ch {
		var order struct{ ID string }
		if err := ev.Unmarshal(&order); err != nil {
			_ = ev.Nack()
			continue
		}
		fmt.Println("bill", order.ID)
		_ = ev.Ack()
	}
}

func ExampleStream_Consume_replay() {
	var stream events.Stream // from events.NewStream
	// Every retained event of the last hour, then the live ones.
	ch, err := stream.Consume("orders.placed", events.WithOffset(time.Now().Add(-time.Hour)))
	if err != nil {
		log.Fatal(err)
	}
	for ev := range ch {
		fmt.Println(ev.Timestamp, ev.ID)
	}
}

func ExampleNewStore() {
	var client *rabbitmq.Client // from rabbitmq.Dial
	store, err := events.NewStore(client, events.WithDefaultTTL(24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	_ = store.Write(&events.Event{Topic: "audit", Payload: []byte(`{"user":"u-1"}`)}, events.WithTTL(time.Hour))
	page, err := store.Read("audit", events.ReadLimit(50), events.ReadOffset(100))
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range page {
		fmt.Println(ev.ID, string(ev.Payload))
	}
}

func ExampleEvent_Unmarshal() {
	ev := events.Event{ID: "e-1", Topic: "orders.placed", Payload: []byte(`{"ID":"o-1"}`)}
	var order struct{ ID string }
	if err := ev.Unmarshal(&order); err != nil {
		log.Fatal(err)
	}
	fmt.Println(order.ID)

	bad := events.Event{ID: "e-2", Topic: "orders.placed", Payload: []byte("not json")}
	fmt.Println(bad.Unmarshal(&order))
	// Output:
	// o-1
	// warren/events: cannot decode event payload: event e-2 on topic "orders.placed" into *struct { ID string }: invalid character 'o' in literal null (expecting 'u')
}

func ExampleValidateTopic() {
	fmt.Println(events.ValidateTopic("orders.placed"))
	fmt.Println(events.ValidateTopic("orders.*"))
	fmt.Println(events.ValidateTopic(""))
	// Output:
	// <nil>
	// warren/events: invalid topic "orders.*": the word "*" is a wildcard; topics are literal routing keys
	// warren/events: missing topic
}

func ExamplePublish() {
	var stream *events.RabbitStream // from events.NewStream
	var store *events.RabbitStore   // from events.NewStore
	// Set once at start-up; the package-level functions use them, as in
	// go-micro.
	events.DefaultStream, events.DefaultStore = stream, store
	if err := events.Publish("orders.placed", map[string]string{"id": "o-1"}); err != nil {
		log.Print(err)
	}
}

func ExampleEvent_SetAckFunc() {
	// A test double of a Stream hands out Events whose settlement it
	// records.
	ev := events.Event{ID: "e-1", Topic: "orders.placed"}
	ev.SetAckFunc(func() error { fmt.Println("acked", ev.ID); return nil })
	ev.SetNackFunc(func() error { fmt.Println("nacked", ev.ID); return nil })
	_ = ev.Ack()
	// Output: acked e-1
}
