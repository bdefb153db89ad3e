package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/retry"
)

// TestHandlerBadPublishDoesNotPoisonSettlement is defect 2 of issue 11:
// handlers that publish to a missing exchange make the broker close the
// channel they publish on. Retry copies of other messages must not share
// that channel's fate: every retryable message is handled again after its
// wait queue, none is dead-lettered.
func TestHandlerBadPublishDoesNotPoisonSettlement(t *testing.T) {
	client := newTestClient(t, WithPublishChannels(1))
	delay := 100 * time.Millisecond
	spec := testSpec(t, delay)
	missing := brokertest.Name(t, "missing-exchange")
	var mu sync.Mutex
	handled := map[string]bool{}
	var badErrs atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("flaky", func(_ context.Context, m *warren.Message) error {
		if m.Attempt == 1 {
			return errors.New("db unavailable")
		}
		mu.Lock()
		handled[string(m.Body)] = true
		mu.Unlock()
		return nil
	})
	r.HandleFunc("bad", func(ctx context.Context, m *warren.Message) error {
		err := warren.PublisherFromContext(ctx).Publish(ctx, &warren.Publishing{Exchange: missing, RoutingKey: "x",
			Publishing: amqp.Publishing{Body: m.Body}})
		if err != nil {
			badErrs.Add(1)
		}
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(8), WithRetry(retry.Delays(delay)))
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	feeder := newTestClient(t) // the test's own publishes stay apart from the handlers'
	const n = 300
	for i := range n {
		publishTo(t, ctx, feeder.Publisher(), spec.Exchange.Name, "flaky", fmt.Sprintf(`{"i":%d}`, i), nil)
		if i%3 == 0 {
			publishTo(t, ctx, feeder.Publisher(), spec.Exchange.Name, "bad", fmt.Sprintf(`{"bad":%d}`, i), nil)
		}
	}
	ch := brokertest.Channel(t)
	eventually(t, 40*time.Second, "every flaky message handled on attempt 2 or dead-lettered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)+depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)) >= n
	})
	mu.Lock()
	got := len(handled)
	mu.Unlock()
	dead := depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name))
	t.Logf("%d of %d handled after their retry, %d dead-lettered; %d handler publishes failed", got, n, dead, badErrs.Load())
	if dead != 0 || got != n {
		t.Errorf("%d dead-lettered and %d of %d handled: a handler's bad publish broke other messages' settlement", dead, got, n)
	}
}
