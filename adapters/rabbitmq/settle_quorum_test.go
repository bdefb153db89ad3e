package rabbitmq

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/retry"
)

// TestQuorumSettlementTable is defect 11 of issue 11: a quorum work queue
// warren declares dead-letters at least once (x-dead-letter-strategy
// at-least-once with x-overflow reject-publish), and the settlement table
// holds on it: ack, delayed retry through a quorum wait queue, dead
// letters with warren's reasons, and the requeue limit counted by the
// broker's x-delivery-count.
func TestQuorumSettlementTable(t *testing.T) {
	client := newTestClient(t)
	delay := 200 * time.Millisecond
	spec := testSpec(t, delay)
	spec.Queue.Type = warren.Quorum
	var ok, flaky, requeues atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("ok", func(context.Context, *warren.Message) error { ok.Add(1); return nil })
	r.HandleFunc("flaky", func(_ context.Context, m *warren.Message) error {
		if m.Attempt == 1 {
			return errors.New("db unavailable")
		}
		flaky.Add(1)
		return nil
	})
	r.HandleFunc("fail", func(context.Context, *warren.Message) error { return errors.New("always") })
	r.HandleFunc("perm", func(context.Context, *warren.Message) error { return warren.Permanent(errors.New("invalid")) })
	r.HandleFunc("requeue", func(context.Context, *warren.Message) error {
		requeues.Add(1)
		return warren.Requeue(errors.New("not yet"))
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(4), WithRequeueLimit(3), WithRetry(retry.Delays(delay)))
	if err != nil {
		t.Fatal(err)
	}
	// The work queue dead-letters at least once: declaring it with those
	// arguments is accepted only if it has them.
	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	if _, err := ch.QueueDeclare(spec.Queue.Name, true, false, false, false, amqp.Table{
		"x-queue-type": "quorum", "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq,
		"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish",
		"x-delivery-limit": int64(DefaultDeliveryLimit),
	}); err != nil {
		t.Fatalf("the quorum work queue does not dead-letter at least once: %v", err)
	}
	runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, k := range []string{"ok", "flaky", "fail", "perm", "requeue"} {
		publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, k, `{}`, nil)
	}
	eventually(t, 20*time.Second, "three dead letters", func() bool { return depth(t, ch, dlq) == 3 })
	eventually(t, 10*time.Second, "ok and flaky handled", func() bool { return ok.Load() == 1 && flaky.Load() == 1 })
	reasons := map[string]string{}
	for _, d := range drain(t, ch, dlq) {
		k, _ := d.Headers[warren.HeaderOriginalRoutingKey].(string)
		reasons[k], _ = d.Headers[warren.HeaderReason].(string)
	}
	want := map[string]string{"fail": warren.ReasonError, "perm": warren.ReasonPermanent, "requeue": warren.ReasonRequeueLimit}
	for k, r := range want {
		if reasons[k] != r {
			t.Errorf("%s: dead-letter reason %q, want %q (all: %v)", k, reasons[k], r, reasons)
		}
	}
	t.Logf("requeue handled %d times with limit 3 (x-delivery-count)", requeues.Load())
	if n := requeues.Load(); n < 3 || n > 4 {
		t.Errorf("requeue handled %d times, want 3 or 4", n)
	}
}
