package confirm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/warren-mq/warren/internal/confirm"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errLost = errors.New("test: confirm lost")

// watched opens a confirm-mode channel on conn with its tracker; the
// channel is closed and its listener awaited at cleanup.
func watched(t *testing.T, conn *amqp.Connection) (*amqp.Channel, *confirm.Tracker) {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	tr := confirm.Watch(ch, &wg, errLost)
	t.Cleanup(func() { _ = ch.Close(); wg.Wait() })
	return ch, tr
}

// freshQueue declares a queue of the test's own, deleted at cleanup.
func freshQueue(t *testing.T) string {
	t.Helper()
	q := brokertest.Name(t, "q")
	admin := brokertest.Channel(t)
	if _, err := admin.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueues(t, q)
	return q
}

func wait(t *testing.T, p *confirm.Pending) (acked, returned bool, err error) {
	t.Helper()
	select {
	case <-p.Done():
		return p.Result()
	case <-time.After(10 * time.Second):
		t.Fatal("no confirm in 10 s")
		return false, false, nil
	}
}

// Two publishes with the same message id in flight, one unroutable: only
// that one is marked returned (a return carries no delivery tag; it is
// matched by the stamped sequence number, not the message id).
func TestReturnMarksExactlyItsPublish(t *testing.T) {
	conn := brokertest.Dial(t)
	q := freshQueue(t)
	ch, tr := watched(t, conn)
	ctx := context.Background()
	msg := amqp.Publishing{MessageId: "same-id", Body: []byte("x")}
	var routed, unroutable []*confirm.Pending
	for i := 0; i < 20; i++ {
		key := q
		if i%2 == 1 {
			key = brokertest.Name(t, "nowhere")
		}
		p, err := confirm.Publish(ctx, ch, tr, "", key, true, msg)
		if err != nil {
			t.Fatal(err)
		}
		if key == q {
			routed = append(routed, p)
		} else {
			unroutable = append(unroutable, p)
		}
	}
	for _, p := range routed {
		if acked, returned, err := wait(t, p); !acked || returned || err != nil {
			t.Errorf("routed publish: acked %v returned %v err %v", acked, returned, err)
		}
	}
	for _, p := range unroutable {
		if acked, returned, err := wait(t, p); !acked || !returned || err != nil {
			t.Errorf("unroutable publish: acked %v returned %v err %v (want acked and returned)", acked, returned, err)
		}
	}
	if n := tr.Len(); n != 0 {
		t.Errorf("%d entries left pending", n)
	}
}

// A channel lost with publishes in flight fails them with the lost-confirm
// error (wrapping the broker's reason), and its tracker takes no more.
func TestLostChannelFailsPending(t *testing.T) {
	conn := brokertest.Dial(t)
	ch, tr := watched(t, conn)
	ctx := context.Background()
	missing := brokertest.Name(t, "missing")
	// A publish to a missing exchange makes the broker close the channel;
	// the publish is never confirmed.
	p, err := confirm.Publish(ctx, ch, tr, missing, "k", false, amqp.Publishing{Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = wait(t, p)
	var ae *amqp.Error
	if !errors.Is(err, errLost) || !errors.As(err, &ae) || ae.Code != amqp.NotFound {
		t.Fatalf("pending on a lost channel completed with %v, want the lost error wrapping a 404", err)
	}
	if _, err := confirm.Publish(ctx, ch, tr, "", "k", false, amqp.Publishing{Body: []byte("x")}); !errors.Is(err, confirm.ErrFailed) {
		t.Errorf("Publish on a lost channel's tracker: %v, want ErrFailed", err)
	}
}

// Each channel has its own tracker and its own sequence numbers, both
// counting from 1: a return on one channel never marks the publish with
// the same number on another. The old channel's first publish is
// unroutable and returned; the new channel's first publish is routed.
func TestReturnNeverMarksAnotherChannelsPublish(t *testing.T) {
	conn := brokertest.Dial(t)
	q := freshQueue(t)
	ctx := context.Background()

	oldCh, oldTr := watched(t, conn)
	newCh, newTr := watched(t, conn)
	returned, err := confirm.Publish(ctx, oldCh, oldTr, "", brokertest.Name(t, "nowhere"), true, amqp.Publishing{Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	routed, err := confirm.Publish(ctx, newCh, newTr, "", q, true, amqp.Publishing{Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if acked, ret, err := wait(t, returned); !acked || !ret || err != nil {
		t.Errorf("old channel's unroutable publish: acked %v returned %v err %v, want acked and returned", acked, ret, err)
	}
	if acked, ret, err := wait(t, routed); !acked || ret || err != nil {
		t.Errorf("new channel's routed publish (the same sequence number): acked %v returned %v err %v", acked, ret, err)
	}
	_ = oldCh.Close()
	if acked, ret, err := returned.Result(); !acked || !ret || err != nil {
		t.Errorf("a result read again after its channel closed changed: acked %v returned %v err %v", acked, ret, err)
	}
}

// A publish whose channel closes before the broker confirms it completes
// as lost, not as nacked: the library completes every outstanding
// confirmation as a nack when the channel shuts down. Closing the channel
// right after a burst of publishes leaves some unconfirmed (the test logs
// how many).
func TestChannelClosedBeforeConfirmIsLostNotNacked(t *testing.T) {
	conn := brokertest.Dial(t)
	q := freshQueue(t)
	ctx := context.Background()
	ch, tr := watched(t, conn)
	var pending []*confirm.Pending
	for i := 0; i < 2000; i++ {
		p, err := confirm.Publish(ctx, ch, tr, "", q, i%2 == 0, amqp.Publishing{Body: make([]byte, 1024), DeliveryMode: amqp.Persistent})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}
	_ = ch.Close()
	var acked, lost int
	for _, p := range pending {
		ok, ret, err := wait(t, p)
		switch {
		case err != nil && errors.Is(err, errLost):
			lost++
		case ok && !ret && err == nil:
			acked++
		default:
			t.Fatalf("publish completed with acked %v returned %v err %v: want acked, or lost", ok, ret, err)
		}
	}
	t.Logf("%d acked, %d lost with the channel", acked, lost)
	if n := tr.Len(); n != 0 {
		t.Errorf("%d mandatory entries left after every result was read", n)
	}
}

// Mandatory publishes whose publisher never reads the result (it stopped
// waiting) are forgotten once confirmed, so the tracker does not grow with
// them.
func TestAbandonedMandatoryPublishesAreForgotten(t *testing.T) {
	conn := brokertest.Dial(t)
	q := freshQueue(t)
	ctx := context.Background()
	ch, tr := watched(t, conn)
	const n = 5000
	var last *confirm.Pending
	for i := 0; i < n; i++ {
		p, err := confirm.Publish(ctx, ch, tr, "", q, true, amqp.Publishing{Body: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		last = p
	}
	wait(t, last)
	peak := tr.Len()
	// Publishes whose results are read, as a publisher's are.
	for i := 0; i < 2048; i++ {
		p, err := confirm.Publish(ctx, ch, tr, "", q, true, amqp.Publishing{Body: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if _, ret, err := wait(t, p); ret || err != nil {
			t.Fatalf("routed publish: returned %v err %v", ret, err)
		}
	}
	t.Logf("tracked after %d abandoned publishes: %d; after 2,048 more read: %d", n, peak, tr.Len())
	if n := tr.Len(); n > 1024 {
		t.Errorf("%d abandoned mandatory publishes still tracked after all were confirmed", n)
	}
}
