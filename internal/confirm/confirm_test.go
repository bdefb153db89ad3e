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
	q := brokertest.Name(t, "q")
	admin := brokertest.Channel(t)
	if _, err := admin.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueues(t, q)
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
	if _, err := tr.Add(ch.GetNextPublishSeqNo()); !errors.Is(err, confirm.ErrFailed) {
		t.Errorf("Add on a lost channel's tracker: %v, want ErrFailed", err)
	}
}

// A new channel's confirms never complete an old channel's entries: both
// count sequence numbers from 1, and each has its own tracker.
func TestNewChannelNeverCompletesOldEntry(t *testing.T) {
	conn := brokertest.Dial(t)
	q := brokertest.Name(t, "q")
	admin := brokertest.Channel(t)
	if _, err := admin.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueues(t, q)
	ctx := context.Background()

	// The old generation: an entry that its channel will never confirm
	// (added, never sent), as one in flight when the channel died.
	oldCh, oldTr := watched(t, conn)
	stale, err := oldTr.Add(oldCh.GetNextPublishSeqNo())
	if err != nil {
		t.Fatal(err)
	}

	newCh, newTr := watched(t, conn)
	p, err := confirm.Publish(ctx, newCh, newTr, "", q, true, amqp.Publishing{Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if acked, returned, err := wait(t, p); !acked || returned || err != nil {
		t.Fatalf("new channel's publish: acked %v returned %v err %v", acked, returned, err)
	}
	select {
	case <-stale.Done():
		t.Fatal("the new channel's confirm of sequence 1 completed the old channel's sequence 1")
	default:
	}
	_ = oldCh.Close()
	_, _, err = wait(t, stale)
	if !errors.Is(err, errLost) {
		t.Errorf("old entry after its channel closed: %v, want the lost error", err)
	}
}
