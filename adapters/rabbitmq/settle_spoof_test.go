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
)

// TestPublisherDeliveryCountCannotUnboundRequeue is defect 8 of issue 11:
// on a classic queue x-delivery-count is a publisher's header. A message
// published with x-delivery-count 0 that keeps asking to be requeued must
// still be dead-lettered at the requeue limit.
func TestPublisherDeliveryCountCannotUnboundRequeue(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	var calls atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("again", func(context.Context, *warren.Message) error {
		calls.Add(1)
		return warren.Requeue(errors.New("not yet"))
	})
	const limit = 3
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(1), WithRequeueLimit(limit))
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "again", `{}`, amqp.Table{"x-delivery-count": int64(0)})
	ch := brokertest.Channel(t)
	eventually(t, 15*time.Second, "the message dead-lettered at the requeue limit", func() bool {
		return depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)) == 1
	})
	t.Logf("handled %d times with limit %d", calls.Load(), limit)
	if n := calls.Load(); n > limit+1 {
		t.Errorf("handled %d times, want at most %d", n, limit+1)
	}
}

// TestSpoofedOriginalRoutingKeyIsIgnored is defect 8 of issue 11: a
// message published with key Order.Created and the headers of a retry
// copy (x-warren-attempt 2, x-original-routingKey Admin.PurgeAll) must be
// dispatched by the key it was published with: only a copy
// that came back from this queue's own wait queue gets its original key.
func TestSpoofedOriginalRoutingKeyIsIgnored(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	var purged, created atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("Admin.PurgeAll", func(context.Context, *warren.Message) error { purged.Add(1); return nil })
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error {
		created.Add(1)
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", `{}`, amqp.Table{
		warren.HeaderAttempt:            int64(2),
		warren.HeaderOriginalExchange:   spec.Exchange.Name,
		warren.HeaderOriginalRoutingKey: "Admin.PurgeAll",
		"x-death":                       []any{amqp.Table{"queue": spec.Queue.Name + ".retry.1s", "reason": "expired", "count": int64(1)}},
	})
	eventually(t, 10*time.Second, "the message handled", func() bool { return created.Load()+purged.Load() == 1 })
	if purged.Load() != 0 {
		t.Fatal("the spoofed x-original-routingKey dispatched the message to Admin.PurgeAll")
	}
}
