package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/retry"
)

// TestDeletedDeadLetterQueueLosesNothing is defect 4 of issue 11: the DLQ
// is deleted while the consumer runs and messages then fail for good. The
// copies are unroutable; warren must not nack them (the queue's
// dead-letter exchange routes to the same missing queue and the broker
// drops them) but re-declare its topology and publish again: every failed
// message ends in the DLQ with warren's headers.
func TestDeletedDeadLetterQueueLosesNothing(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("perm", func(context.Context, *warren.Message) error {
		return warren.Permanent(errors.New("invalid order"))
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	if _, err := ch.QueueDelete(dlq, false, false, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 5
	for i := range n {
		publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "perm", fmt.Sprintf(`{"i":%d}`, i), nil)
	}
	ch2 := brokertest.Channel(t)
	eventually(t, 20*time.Second, "every failed message in the re-declared DLQ", func() bool {
		n2, err := ch2.QueueDeclarePassive(dlq, true, false, false, false, nil)
		if err != nil {
			ch2 = brokertest.Channel(t) // a passive declare of a missing queue closes the channel
			return false
		}
		return n2.Messages == n
	})
	for _, d := range drain(t, ch2, dlq) {
		if d.Headers[warren.HeaderReason] != warren.ReasonPermanent {
			t.Errorf("dead letter %s without warren's reason header: %v", d.Body, d.Headers)
		}
	}
}

// TestDeletedWaitQueueLosesNothing is defect 4 for a retry: the wait queue
// is deleted while the consumer runs. The retry copy is unroutable; warren
// must re-declare and publish it again, so the message comes back from the
// wait queue and is handled on its second attempt, not dead-lettered.
func TestDeletedWaitQueueLosesNothing(t *testing.T) {
	client := newTestClient(t)
	delay := 200 * time.Millisecond
	spec := testSpec(t, delay)
	var mu sync.Mutex
	second := map[string]bool{}
	r := warren.NewRouter()
	r.HandleFunc("flaky", func(_ context.Context, m *warren.Message) error {
		if m.Attempt == 1 {
			return errors.New("db unavailable")
		}
		mu.Lock()
		second[string(m.Body)] = true
		mu.Unlock()
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(2), WithRetry(retry.Delays(delay)))
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	ch := brokertest.Channel(t)
	if _, err := ch.QueueDelete(warren.WaitQueue(spec.Queue.Name, delay), false, false, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 5
	for i := range n {
		publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "flaky", fmt.Sprintf(`{"i":%d}`, i), nil)
	}
	eventually(t, 20*time.Second, "every message handled on its second attempt", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(second) == n
	})
	if d := depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)); d != 0 {
		t.Errorf("%d messages dead-lettered; the wait queue was re-declared, none should be", d)
	}
}
