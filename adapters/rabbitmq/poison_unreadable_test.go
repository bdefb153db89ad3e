package rabbitmq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestPoisonUnreadableHeadersNoHotLoop publishes a message whose headers
// amqp091-go refuses to read (a table nested 50 levels deep: the library
// stops at 32). The library fails the whole consuming connection with
// FRAME_ERROR when it reads the header frame, before warren sees a
// delivery, so warren cannot dead-letter it; the broker redelivers it to
// the recovered connection, which fails again. What warren promises: it
// backs off before each restart, so the loop is slow (it was 400 to 600
// connection losses in 30 s), and the message is not lost (it stays in the
// queue). The cure is a quorum queue with x-delivery-limit
// (TestUnreadableHeadersQuorumDeliveryLimit); see docs/RELIABILITY.md,
// "Unreadable headers".
func TestPoisonUnreadableHeadersNoHotLoop(t *testing.T) {
	obs := &connObserver{}
	// The default maximum wait (10 s), not the tests' usual 1 s.
	client := newTestClient(t, WithObserver(obs), WithReconnect(100*time.Millisecond, 10*time.Second, 0))
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("Order.#", func(context.Context, *warren.Message) error { return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(2), WithPrefetch(4))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created",
		Publishing: amqp.Publishing{MessageId: "poison", Headers: amqp.Table{"deep": nestedTable(49)}, Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	const watch = 8 * time.Second
	time.Sleep(watch)
	losses := obs.lost()[client.Name()+".consume"]
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if losses == 0 {
		t.Fatal("the consuming connection never failed: amqp091-go reads such headers now; revisit docs/RELIABILITY.md")
	}
	if losses > 8 {
		t.Fatalf("the consuming connection was lost %d times in %v: a hot loop", losses, watch)
	}
	ch := brokertest.Channel(t)
	if d := depth(t, ch, spec.Queue.Name); d != 1 {
		t.Fatalf("queue depth %d, want the unreadable message still there", d)
	}
	t.Logf("%d connection losses in %v", losses, watch)
}

// TestUnreadableHeadersQuorumDeliveryLimit shows the mitigation for
// TestPoisonUnreadableHeaders available today: on a quorum queue with
// x-delivery-limit the broker counts the deliveries the failing connection
// returns, and past the limit dead-letters the message through the queue's
// x-dead-letter-exchange into the DLQ (x-death reason delivery_limit); the
// messages behind it are then consumed. The DLQ copy is as unreadable as
// the original, so only the queue depth is checked.
func TestUnreadableHeadersQuorumDeliveryLimit(t *testing.T) {
	const limit = 2
	obs := &connObserver{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t)
	spec.Queue.Type = warren.Quorum
	spec.Queue.Args = amqp.Table{"x-delivery-limit": int64(limit)}
	handled := make(chan string, 16)
	r := warren.NewRouter()
	r.HandleFunc("Order.#", func(_ context.Context, m *warren.Message) error {
		handled <- m.MessageID
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(2), WithPrefetch(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []amqp.Publishing{
		{MessageId: "poison", Headers: amqp.Table{"deep": nestedTable(49)}, Body: []byte(`{}`)},
		{MessageId: "good", Body: []byte(`{}`)},
	} {
		if err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name,
			RoutingKey: "Order.Created", Publishing: p}); err != nil {
			t.Fatalf("publish %s: %v", p.MessageId, err)
		}
	}
	stop := runConsumer(t, cons)
	select {
	case id := <-handled:
		if id != "good" {
			t.Fatalf("handled %q", id)
		}
	case <-ctx.Done():
		t.Fatalf("the good message was not handled; the consuming connection was lost %d times",
			obs.lost()[client.Name()+".consume"])
	}
	ch := brokertest.Channel(t)
	eventually(t, 10*time.Second, "the poison message in the DLQ", func() bool {
		return depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)) == 1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	losses := obs.lost()[client.Name()+".consume"]
	if losses == 0 || losses > limit+1 {
		t.Fatalf("the consuming connection was lost %d times, want 1 to %d (the delivery limit + 1)", losses, limit+1)
	}
	t.Logf("the consuming connection was lost %d times before the broker dead-lettered the message", losses)
}

// TestDeadLetterOfLargeHeaders dead-letters a message carrying 127 KB of
// headers, with an error message of warren.MaxHeaderValue bytes. The
// headers warren adds (up to ~9 KB) would push the copy's header frame past
// frame_max, and the broker would close the whole publishing connection;
// warren trims its own headers (stack trace, exception message) to fit, so
// the dead letter carries x-warren-reason and no connection is lost.
func TestDeadLetterOfLargeHeaders(t *testing.T) {
	obs := &connObserver{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error {
		return warren.Permanent(errors.New(strings.Repeat("e", warren.MaxHeaderValue)))
	})
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", `{}`,
		amqp.Table{"blob": strings.Repeat("b", 127_000)})
	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	eventually(t, 30*time.Second, "the dead letter", func() bool { return depth(t, ch, dlq) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	d := drain(t, ch, dlq)[0]
	if d.Headers[warren.HeaderReason] != warren.ReasonPermanent {
		t.Errorf("dead letter without reason %q: x-death %v", warren.ReasonPermanent, d.Headers["x-death"])
	}
	if lost := obs.lost(); len(lost) != 0 {
		t.Errorf("connections lost: %v", lost)
	}
}
