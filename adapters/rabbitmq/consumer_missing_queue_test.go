package rabbitmq

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// consumerEvents records the consumer's own events.
type consumerEvents struct {
	warren.NopObserver
	mu     sync.Mutex
	events []ConsumerEvent
}

func (o *consumerEvents) ObserveConsumer(e ConsumerEvent) {
	o.mu.Lock()
	o.events = append(o.events, e)
	o.mu.Unlock()
}

func (o *consumerEvents) count(k ConsumerEventKind) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, e := range o.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// TestMissingQueueIsReported is defect 6 of issue 11: with WithSkipDeclare on
// a queue that does not exist, the consumer must report it at once (an
// Observer event) and Run must return an error after a bounded number of
// attempts, not retry basic.consume for ever in silence.
func TestMissingQueueIsReported(t *testing.T) {
	obs := &consumerEvents{}
	client := newTestClient(t, WithObserver(obs))
	spec := Spec{Queue: warren.Queue{Name: brokertest.Name(t, "never-declared")}}
	cons, err := client.NewConsumer(context.Background(), warren.NewRouter(), spec, WithSkipDeclare(), WithMissingQueueAttempts(3))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- cons.Run(context.Background()) }()
	eventually(t, 5*time.Second, "a queue-missing event", func() bool { return obs.count(ConsumerQueueMissing) > 0 })
	select {
	case err := <-errc:
		var ae *amqp.Error
		if !errors.As(err, &ae) || ae.Code != amqp.NotFound {
			t.Fatalf("Run returned %v, want the broker's NOT_FOUND", err)
		}
		t.Logf("Run returned after %v and %d events: %v", time.Since(start), obs.count(ConsumerQueueMissing), err)
	case <-time.After(30 * time.Second):
		_ = cons.Shutdown(context.Background())
		t.Fatal("Run still retrying a missing queue after 30s")
	}
	if n := obs.count(ConsumerQueueMissing); n != 3 {
		t.Errorf("%d queue-missing events, want one per attempt (3)", n)
	}
}
