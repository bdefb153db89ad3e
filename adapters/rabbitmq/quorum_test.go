package rabbitmq

import (
	"context"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/retry"
)

// queueArgs returns the arguments of the queue called name in t.
func queueArgs(t *testing.T, top warren.Topology, name string) (warren.Queue, amqp.Table) {
	t.Helper()
	for _, q := range top.Queues {
		if q.Name == name {
			return q, q.Args
		}
	}
	t.Fatalf("no queue %s in the topology", name)
	return warren.Queue{}, nil
}

// TestWithQueueTypeQuorum: WithQueueType(warren.Quorum) on a classic Spec
// declares the work, dead-letter and wait queues as quorum queues; the
// work queue gets the default delivery limit, and every one the leader
// locator; the DLQ has no delivery limit (nothing would catch its drops).
// The broker holds them so: declaring each with exactly these arguments is
// accepted (it refuses any difference in x-delivery-limit or the locator).
func TestWithQueueTypeQuorum(t *testing.T) {
	client := newTestClient(t)
	delay := 300 * time.Millisecond
	spec := testSpec(t, delay)
	r := warren.NewRouter()
	r.HandleFunc("Order.#", func(context.Context, *warren.Message) error { return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec,
		WithQueueType(warren.Quorum), WithLeaderLocator(LeaderBalanced), WithRetry(retry.Delays(delay)))
	if err != nil {
		t.Fatal(err)
	}
	top := cons.Topology()
	work, workArgs := queueArgs(t, top, spec.Queue.Name)
	if work.Type != warren.Quorum || workArgs["x-delivery-limit"] != int64(DefaultDeliveryLimit) ||
		workArgs["x-queue-leader-locator"] != "balanced" {
		t.Fatalf("work queue %+v: want quorum, delivery limit %d, locator balanced", work, DefaultDeliveryLimit)
	}
	dlq, dlqArgs := queueArgs(t, top, warren.DeadLetterQueue(spec.Queue.Name))
	if dlq.Type != warren.Quorum || dlqArgs["x-delivery-limit"] != nil || dlqArgs["x-queue-leader-locator"] != "balanced" {
		t.Fatalf("DLQ %+v: want quorum, no delivery limit, locator balanced", dlq)
	}
	wait, waitArgs := queueArgs(t, top, warren.WaitQueue(spec.Queue.Name, delay))
	if wait.Type != warren.Quorum || waitArgs["x-queue-leader-locator"] != "balanced" {
		t.Fatalf("wait queue %+v: want quorum, locator balanced", wait)
	}
	ch := brokertest.Channel(t)
	for _, q := range top.Queues {
		args := amqp.Table{"x-queue-type": "quorum"}
		for k, v := range q.Args {
			args[k] = v
		}
		if _, err := ch.QueueDeclare(q.Name, true, false, false, false, args); err != nil {
			t.Fatalf("queue %s is not on the broker as declared (%v): %v", q.Name, args, err)
		}
	}
	if out := brokertest.Rabbitmqctl(t, "-q", "list_queues", "name", "type"); !containsLine(out, spec.Queue.Name, "quorum") {
		t.Fatalf("the broker does not list %s as a quorum queue:\n%s", spec.Queue.Name, out)
	}
	// And it consumes.
	handled := make(chan struct{}, 1)
	r2 := warren.NewRouter()
	r2.HandleFunc("Order.#", func(context.Context, *warren.Message) error { handled <- struct{}{}; return nil })
	cons2, err := client.NewConsumer(context.Background(), r2, spec, WithQueueType(warren.Quorum),
		WithLeaderLocator(LeaderBalanced), WithRetry(retry.Delays(delay)))
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", `{}`, nil)
	select {
	case <-handled:
	case <-ctx.Done():
		t.Fatal("the quorum queue's message was not handled")
	}
}

// containsLine reports whether out has a line with exactly the fields.
func containsLine(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == len(fields) {
			match := true
			for i := range f {
				match = match && f[i] == fields[i]
			}
			if match {
				return true
			}
		}
	}
	return false
}

// TestDeliveryLimitOptions: WithDeliveryLimit sets the work queue's limit
// (0: none); a limit in the Spec's arguments is kept; a requeue limit above
// the default raises it; no limit where nothing catches the broker's drops
// (WithoutDeadLetterExchange); a classic queue gets none.
func TestDeliveryLimitOptions(t *testing.T) {
	client := newTestClient(t)
	r := warren.NewRouter()
	r.HandleFunc("Order.#", func(context.Context, *warren.Message) error { return nil })
	for _, tc := range []struct {
		name string
		args amqp.Table
		opts []ConsumerOption
		want any
	}{
		{"option", nil, []ConsumerOption{WithQueueType(warren.Quorum), WithDeliveryLimit(7)}, int64(7)},
		{"none", nil, []ConsumerOption{WithQueueType(warren.Quorum), WithDeliveryLimit(0)}, nil},
		{"spec", amqp.Table{"x-delivery-limit": int64(3)}, []ConsumerOption{WithQueueType(warren.Quorum)}, int64(3)},
		{"requeue limit", nil, []ConsumerOption{WithQueueType(warren.Quorum), WithRequeueLimit(15)}, int64(30)},
		{"no DLX", nil, []ConsumerOption{WithQueueType(warren.Quorum), WithoutDeadLetterExchange()}, nil},
		{"classic", nil, []ConsumerOption{WithQueueType(warren.Classic)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec(t)
			spec.Queue.Args = tc.args
			cons, err := client.NewConsumer(context.Background(), r, spec, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, args := queueArgs(t, cons.Topology(), spec.Queue.Name)
			if got := args["x-delivery-limit"]; got != tc.want {
				t.Fatalf("x-delivery-limit %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDeliveryLimitEndsPoison: the delivery limit is what ends an
// unreadable message on a quorum queue WithQueueType declares (it fails
// the consuming connection at every delivery, docs/RELIABILITY.md): here
// WithDeliveryLimit(2) to keep the test short; past it the broker
// dead-letters the message and the one behind it is handled.
func TestDeliveryLimitEndsPoison(t *testing.T) {
	obs := &connObserver{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t)
	handled := make(chan string, 16)
	r := warren.NewRouter()
	r.HandleFunc("Order.#", func(_ context.Context, m *warren.Message) error { handled <- m.MessageID; return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec, WithQueueType(warren.Quorum), WithDeliveryLimit(2),
		WithWorkers(2), WithPrefetch(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []amqp.Publishing{
		{MessageId: "poison", Headers: amqp.Table{"deep": nestedTable(49)}, Body: []byte(`{}`)},
		{MessageId: "good", Body: []byte(`{}`)},
	} {
		if err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created", Publishing: p}); err != nil {
			t.Fatal(err)
		}
	}
	runConsumer(t, cons)
	select {
	case id := <-handled:
		if id != "good" {
			t.Fatalf("handled %q", id)
		}
	case <-ctx.Done():
		t.Fatalf("the good message was not handled; %d connection losses", obs.lost()[client.Name()+".consume"])
	}
	ch := brokertest.Channel(t)
	eventually(t, 10*time.Second, "the poison message in the DLQ", func() bool {
		return depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)) == 1
	})
	t.Logf("%d connection losses before the broker dead-lettered it", obs.lost()[client.Name()+".consume"])
}
