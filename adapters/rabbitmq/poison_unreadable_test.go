package rabbitmq

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/brokertest"
)

// knownBug skips a test that shows an open bug unless WARREN_KNOWN_BUGS is
// set: the test asserts what warren promises and fails today. The reason
// says what breaks and where it is described.
func knownBug(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("WARREN_KNOWN_BUGS") == "" {
		t.Skipf("known bug (set WARREN_KNOWN_BUGS=1 to run): %s", reason)
	}
}

// TestPoisonUnreadableHeaders publishes messages whose headers amqp091-go
// refuses to read (a table nested 50 levels deep; an x-death list of
// 10,000 entries: the library stops at 32 levels and 8,192 entries), with
// a good message behind each. The promise: the poison message ends in the
// dead-letter queue, the good one is handled, and the consumer keeps its
// connection.
//
// What happens: the library fails the whole consuming connection with
// FRAME_ERROR ("invalid field or value inside of a frame") when it reads
// the header frame; the message was never acked, so the broker delivers it
// again to the recovered connection, which fails again, in a loop without
// backoff. The queue (and every other consumer on that connection) is
// stalled for good. See docs/RELIABILITY.md, "Unreadable headers".
func TestPoisonUnreadableHeaders(t *testing.T) {
	knownBug(t, "a message with headers amqp091-go cannot read fails the consuming connection again and again")
	for name, headers := range map[string]amqp.Table{
		"deep-nesting-50": {"deep": nestedTable(49)},
		"x-death-10000":   {"x-death": wideDeaths(10000)},
	} {
		t.Run(name, func(t *testing.T) {
			obs := &connObserver{}
			client := newTestClient(t, WithObserver(obs))
			spec := testSpec(t)
			handled := make(chan string, 16)
			r := warren.NewRouter()
			r.HandleFunc("Order.#", func(_ context.Context, m *warren.Message) error {
				handled <- m.MessageID
				return nil
			})
			cons, err := client.NewConsumer(r, spec, Workers(2), Prefetch(4))
			if err != nil {
				t.Fatal(err)
			}
			stop := runConsumer(t, cons)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, p := range []amqp.Publishing{
				{MessageId: "poison", Headers: headers, Body: []byte(`{}`)},
				{MessageId: "good", Body: []byte(`{}`)},
			} {
				if err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name,
					RoutingKey: "Order.Created", Publishing: p}); err != nil {
					t.Fatalf("publish %s: %v", p.MessageId, err)
				}
			}
			select {
			case id := <-handled:
				if id != "good" {
					t.Errorf("handled %q", id)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("the good message behind the poison one was not handled; the consuming connection was lost %d times",
					obs.lost()[client.Name()+".consume"])
			}
			ch := brokertest.Channel(t)
			eventually(t, 10*time.Second, "the poison message in the DLQ", func() bool {
				return depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)) == 1
			})
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
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
	cons, err := client.NewConsumer(r, spec, Workers(2), Prefetch(1))
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

// TestDeadLetterOfLargeHeaders fails a message whose headers are close to
// the broker's frame_max (128 KiB: a content header must fit one frame)
// with an error message of warren.MaxHeaderValue bytes. The promise: the
// dead letter carries x-warren-reason "error" and no connection is lost.
//
// What happens: the headers warren adds (up to ~9 KB: the exception
// message and stack trace, the original exchange and key, ...) push the
// dead letter's header frame past frame_max; the broker closes the
// publishing connection (FRAME_ERROR frame_too_large), every publish in
// flight on it fails, and the consumer falls back to nack(requeue=false):
// the message reaches the DLQ through the queue's x-dead-letter-exchange
// without warren's headers. Nothing is lost, but the reason is, and the
// whole process's publishing is cut. See docs/RELIABILITY.md.
func TestDeadLetterOfLargeHeaders(t *testing.T) {
	knownBug(t, "a dead letter whose headers exceed frame_max fails the publishing connection")
	obs := &connObserver{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error {
		return warren.Permanent(errors.New(strings.Repeat("e", warren.MaxHeaderValue)))
	})
	cons, err := client.NewConsumer(r, spec)
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
