package rabbitmq

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

type orderCreated struct {
	ID string `json:"id"`
}

func TestConsumerDispatchesByPatternAndAcks(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	ctx := context.Background()

	var created, other atomic.Int64
	r := warren.NewRouter()
	r.Handle("Order.Created", warren.Typed(func(ctx context.Context, o orderCreated) error {
		if o.ID == "" {
			return warren.Permanent(fmt.Errorf("no id"))
		}
		created.Add(1)
		return nil
	}))
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { other.Add(1); return nil })

	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(8), WithPrefetch(32))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)

	pub, err := client.NewPublisher(ctx, spec.Exchange, WithTypeKeys(KeyFor[orderCreated]("Order.Created")))
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := 0; i < n; i++ {
		if err := pub.Send(ctx, orderCreated{ID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Updated",
			Publishing: amqp.Publishing{Body: []byte("{}")}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "every message handled", func() bool {
		return created.Load() == n && other.Load() == n
	})
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	ch := brokertest.Channel(t)
	if d := depth(t, ch, spec.Queue.Name); d != 0 {
		t.Fatalf("%d messages left in the queue after every one was handled: acks lost", d)
	}
	if d := depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)); d != 0 {
		t.Fatalf("%d messages in the DLQ", d)
	}
}

func TestPublisherTypedRoutesAndErrors(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.NewPublisher(ctx, spec.Exchange, WithTypeKeys(KeyFor[orderCreated]("Order.Created")))
	if err != nil {
		t.Fatal(err)
	}
	// An unmapped type is an error and publishes nothing.
	if err := pub.Send(ctx, struct{ X int }{1}); err == nil {
		t.Fatal("Send of an unmapped type succeeded")
	}
	// Mandatory with no queue bound: the broker returns it.
	err = pub.Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "nobody.listens", Mandatory: true})
	if err != warren.ErrUnroutable {
		t.Fatalf("mandatory unroutable publish: err = %v, want ErrUnroutable", err)
	}
	// A missing exchange closes the channel: the publish fails with the
	// broker's reason, and the next publish works on a new channel.
	err = pub.Publish(ctx, &warren.Publishing{Exchange: brokertest.Name(t, "missing"), RoutingKey: "k"})
	if err == nil {
		t.Fatal("publish to a missing exchange succeeded")
	}
	t.Logf("missing exchange: %v", err)
	// Concurrent publishes all confirm, with defaults filled in.
	ch := brokertest.Channel(t)
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "Order.Created", spec.Exchange.Name, false, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := pub.Send(ctx, &orderCreated{ID: fmt.Sprintf("%d-%d", g, i)}); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := drain(t, ch, q.Name)
	ids := map[string]bool{}
	for _, d := range got {
		if d.DeliveryMode != amqp.Persistent || d.MessageId == "" || d.Timestamp.IsZero() || d.ContentType != "application/json" {
			t.Fatalf("defaults not set: %+v", d)
		}
		ids[d.MessageId] = true
	}
	if len(got) != 400 || len(ids) != 400 {
		t.Fatalf("got %d messages with %d distinct ids, want 400", len(got), len(ids))
	}
}

func TestTopologyConflictNamesQueueAndArgument(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	ch := brokertest.Channel(t)
	if _, err := ch.QueueDeclare(spec.Queue.Name, true, false, false, false, amqp.Table{"x-max-length": int32(10)}); err != nil {
		t.Fatal(err)
	}
	r := warren.NewRouter()
	r.HandleFunc("#", func(context.Context, *warren.Message) error { return nil })
	_, err := client.NewConsumer(context.Background(), r, spec)
	var te *TopologyError
	if !asTopologyError(err, &te) || te.Name != spec.Queue.Name || te.Arg == "" {
		t.Fatalf("NewConsumer = %v, want a TopologyError naming the queue and argument", err)
	}
	t.Logf("conflict: %v", err)
}
