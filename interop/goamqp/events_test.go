package goamqp

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

const eventsEachWay = 2000

// TestGoamqpEventsReachWarren: a goamqp service publishes Order.Created and
// Order.Updated on events.topic.exchange; a warren service consuming
// EventStream handles all 2,000, each with goamqp's service header and JSON
// content type.
func TestGoamqpEventsReachWarren(t *testing.T) {
	publisher := brokertest.Name(t, "gq-pub")
	consumer := brokertest.Name(t, "wr-sub")
	run := brokertest.Name(t, "run")

	var mu sync.Mutex
	seen := map[int]bool{}
	var bad []string
	record := func(ctx context.Context, id int) {
		msg := warren.MessageFromContext(ctx)
		mu.Lock()
		defer mu.Unlock()
		if s, _ := warren.HeaderString(msg.Headers, HeaderService); s != publisher || msg.ContentType != "application/json" {
			bad = append(bad, s+" "+msg.ContentType)
		}
		seen[id] = true
	}
	r := warren.NewRouter()
	r.Handle("Order.Created", warren.Typed(func(ctx context.Context, e OrderCreated) error {
		if e.Run == run { // the event exchange is shared: count only this run's
			record(ctx, e.ID)
		}
		return nil
	}))
	r.Handle("Order.Updated", warren.Typed(func(ctx context.Context, e OrderUpdated) error {
		if e.Run == run {
			record(ctx, e.ID)
		}
		return nil
	}))
	newConsumer(t, dialWarren(t, consumer), r, rabbitmq.EventStream(consumer))

	peer := dialPeer(t, publisher)
	pub, err := peer.EventStreamPublisher(orderRoutes)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range eventsEachWay {
		var msg any = OrderCreated{Run: run, ID: i}
		if i%2 == 1 {
			msg = &OrderUpdated{Run: run, ID: i, Status: "paid"}
		}
		if err := pub.Publish(ctx, msg); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	brokertest.Eventually(t, 60*time.Second, "warren handles every goamqp event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == eventsEachWay
	})
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d events without service=%s / application/json, first: %q", len(bad), publisher, bad[0])
	}
	t.Logf("warren handled %d of %d goamqp events", len(seen), eventsEachWay)
}

// TestWarrenEventsReachGoamqp: warren's event publisher sends 2,000 events;
// a goamqp service with one handler per key, switching over pointers,
// consumes all of them.
func TestWarrenEventsReachGoamqp(t *testing.T) {
	publisher := brokertest.Name(t, "wr-pub")
	consumer := brokertest.Name(t, "gq-sub")
	run := brokertest.Name(t, "run")
	deleteQueues(t, EventQueue(EventExchange, consumer))

	var mu sync.Mutex
	seen := map[int]bool{}
	wrongType := 0
	handler := func(msg any, _ map[string]any) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		switch m := msg.(type) {
		case *OrderCreated:
			if m.Run == run {
				seen[m.ID] = true
				wrongType += m.ID % 2
			}
		case *OrderUpdated:
			if m.Run == run {
				seen[m.ID] = true
				wrongType += 1 - m.ID%2
			}
		}
		return nil, nil
	}
	peer := dialPeer(t, consumer)
	for key, typ := range orderRoutes {
		if err := peer.EventStreamConsumer(key, typ, handler); err != nil {
			t.Fatal(err)
		}
	}
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub, err := dialWarren(t, publisher).NewEventPublisher(ctx, rabbitmq.WithTypeKeys(
		rabbitmq.KeyFor[OrderCreated]("Order.Created"), rabbitmq.KeyFor[OrderUpdated]("Order.Updated")))
	if err != nil {
		t.Fatal(err)
	}
	for i := range eventsEachWay {
		var msg any = OrderCreated{Run: run, ID: i}
		if i%2 == 1 {
			msg = OrderUpdated{Run: run, ID: i, Status: "paid"}
		}
		if err := pub.Send(ctx, msg); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	brokertest.Eventually(t, 60*time.Second, "goamqp consumes every warren event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == eventsEachWay
	})
	mu.Lock()
	defer mu.Unlock()
	if wrongType != 0 {
		t.Fatalf("%d events decoded into the other type", wrongType)
	}
	t.Logf("goamqp consumed %d of %d warren events", len(seen), eventsEachWay)
}
