package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/retry"
)

// TestRetryInPlaceCountsTwoRetries: a handler that fails twice then
// succeeds is retried in place (retry.Backoff) and acked once, and the
// metrics show two retries.
func TestRetryInPlaceCountsTwoRetries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	client := newTestClient(t, WithObserver(m))
	spec := testSpec(t)
	var calls atomic.Int32
	r := warren.NewRouter()
	r.Use(m.Middleware(), retry.Backoff(retry.MaxAttempts(5), retry.InitialInterval(time.Millisecond)))
	r.HandleFunc("flaky", func(context.Context, *warren.Message) error {
		if calls.Add(1) <= 2 {
			return errors.New("not yet")
		}
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	publishTo(t, context.Background(), client.Publisher(), spec.Exchange.Name, "flaky", "{}", nil)
	eventually(t, 10*time.Second, "the ack", func() bool {
		return metricValue(t, reg, "warren_messages_consumed_total", map[string]string{"route": "flaky", "outcome": "ack"}) == 1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("handler called %d times, want 3", n)
	}
	if got := metricValue(t, reg, "warren_retries_total", map[string]string{"route": "flaky", "delayed": "false"}); got != 2 {
		t.Fatalf("warren_retries_total{delayed=false} = %v, want 2", got)
	}
	if d := depth(t, brokertest.Channel(t), spec.Queue.Name); d != 0 {
		t.Fatalf("queue depth %d", d)
	}
}

// TestFiftyThousandWithFailuresThenReplay runs 50,000 messages where 10%
// fail permanently and 10% fail once (retried in place): every message ends
// either handled or in the DLQ, none lost, none in both. Then the handler
// is "fixed" and the DLQ replayed: it empties, and every replayed message
// is handled once.
func TestFiftyThousandWithFailuresThenReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	const n = 50000
	client := newTestClient(t)
	spec := testSpec(t)
	var fixed atomic.Bool
	var mu sync.Mutex
	handled := make(map[int]int, n)
	failedOnce := make(map[int]bool, n/10)
	var total atomic.Int64
	r := warren.NewRouter()
	r.Use(retry.Backoff(retry.MaxAttempts(3), retry.InitialInterval(time.Millisecond)))
	r.HandleFunc("Order.Created", func(_ context.Context, m *warren.Message) error {
		i, err := strconv.Atoi(m.MessageID)
		if err != nil {
			return warren.Permanent(err)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case i%10 == 0 && !fixed.Load():
			return warren.Permanent(fmt.Errorf("order %d is invalid", i))
		case i%10 == 1 && !failedOnce[i]:
			failedOnce[i] = true
			return errors.New("database busy")
		}
		handled[i]++
		total.Add(1)
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(16), WithPrefetch(256))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pub := client.Publisher()
	var pending []*Confirmation
	for i := 0; i < n; i++ {
		c, err := pub.PublishDeferred(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created",
			Publishing: amqp.Publishing{MessageId: strconv.Itoa(i), Body: []byte("{}")}})
		if err != nil {
			t.Fatal(err)
		}
		if pending = append(pending, c); len(pending) == 512 {
			for _, c := range pending {
				if err := c.Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			pending = pending[:0]
		}
	}
	for _, c := range pending {
		if err := c.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop := runConsumer(t, cons)
	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	eventually(t, 2*time.Minute, "45,000 handled and 5,000 dead-lettered", func() bool {
		return total.Load() == n*9/10 && depth(t, ch, dlq) == n/10
	})
	if d := depth(t, ch, spec.Queue.Name); d != 0 {
		t.Fatalf("%d messages left in the work queue", d)
	}
	mu.Lock()
	for i := 0; i < n; i++ {
		want := 1
		if i%10 == 0 {
			want = 0 // in the DLQ, not handled
		}
		if handled[i] != want {
			mu.Unlock()
			t.Fatalf("message %d handled %d times, want %d", i, handled[i], want)
		}
	}
	mu.Unlock()

	fixed.Store(true)
	res, err := deadletter.NewInspector(brokertest.Dial(t)).Replay(ctx, dlq, deadletter.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Replayed) != n/10 || len(res.Failed) != 0 {
		t.Fatalf("replayed %d, failed %d, want %d and 0", len(res.Replayed), len(res.Failed), n/10)
	}
	eventually(t, time.Minute, "every replayed message handled", func() bool { return total.Load() == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := depth(t, ch, dlq); d != 0 {
		t.Fatalf("%d messages left in the DLQ after the replay", d)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < n; i++ {
		if handled[i] != 1 {
			t.Fatalf("message %d handled %d times in all, want exactly once", i, handled[i])
		}
	}
}

// metricValue reads the counter or gauge name whose labels include want
// from reg (0 when there is none).
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
