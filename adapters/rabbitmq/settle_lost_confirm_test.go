package rabbitmq

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestLostDeadLetterConfirmRequeuesOnce loses the confirm of the first
// dead-letter republish (as when the publish connection dies between
// publish and confirm): the message is requeued rather than dead-lettered
// by the broker without warren's headers, and its redelivery sends the
// same copy again without running the handler a second time (copyMemo):
// the message's fate was decided once.
func TestLostDeadLetterConfirmRequeuesOnce(t *testing.T) {
	var lost atomic.Int32
	loseFirstDeadLetter := func(next warren.Publisher) warren.Publisher {
		return warren.PublisherFunc(func(ctx context.Context, p *warren.Publishing) error {
			if p.Exchange == "" && p.Headers[warren.HeaderReason] != nil && lost.Add(1) == 1 {
				return ErrConfirmLost
			}
			return next.Publish(ctx, p)
		})
	}
	obs := &recordingObserver{}
	client := newTestClient(t, WithPublishMiddleware(loseFirstDeadLetter), WithObserver(obs))
	spec := testSpec(t)
	var calls atomic.Int32
	r := warren.NewRouter()
	r.HandleFunc("bad", func(context.Context, *warren.Message) error {
		calls.Add(1)
		return warren.Permanent(errors.New("bad"))
	})
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	publishTo(t, context.Background(), client.Publisher(), spec.Exchange.Name, "bad", "{}", nil)
	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	eventually(t, 10*time.Second, "the dead letter", func() bool { return depth(t, ch, dlq) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	d := drain(t, ch, dlq)[0]
	if d.Headers[warren.HeaderReason] != warren.ReasonPermanent {
		t.Fatalf("dead letter without warren's reason: %v", d.Headers)
	}
	if calls.Load() != 1 || obs.count(warren.ActionRequeue, "") != 1 || obs.count(warren.ActionDeadLetter, warren.ReasonPermanent) != 1 {
		t.Fatalf("handled %d times; requeues %d, dead letters %d; want 1, 1, 1", calls.Load(),
			obs.count(warren.ActionRequeue, ""), obs.count(warren.ActionDeadLetter, warren.ReasonPermanent))
	}
}
