package rabbitmq

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// idTracker counts how often each message id was handled.
type idTracker struct {
	mu      sync.Mutex
	handled map[string]int
	total   atomic.Int64
}

func newIDTracker() *idTracker { return &idTracker{handled: make(map[string]int)} }

func (tr *idTracker) handle(_ context.Context, m *warren.Message) error {
	tr.mu.Lock()
	tr.handled[m.MessageID]++
	tr.mu.Unlock()
	tr.total.Add(1)
	return nil
}

func (tr *idTracker) distinct() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.handled)
}

// publishAll publishes n persistent messages with ids prefix-0..n-1 from
// workers goroutines, retrying each until the broker confirms it, as an
// at-least-once publisher does.
func publishAll(ctx context.Context, pub *Publisher, exchange, key, prefix string, n, workers int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				for {
					err := pub.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: key,
						Publishing: amqp.Publishing{MessageId: fmt.Sprintf("%s-%d", prefix, i), Body: []byte("{}")}})
					if err == nil {
						break
					}
					if ctx.Err() != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestConsumerSurvivesConnectionCloses closes the client's connections from
// the broker side three times while 20,000 persistent messages are
// published and consumed: every message is handled at least once,
// duplicates stay within prefetch x closes, and consuming resumes each
// time. make chaos runs the same with close_all_connections
// (WARREN_CHAOS_ALL=1), which also cuts every other client on the broker.
func TestConsumerSurvivesConnectionCloses(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const (
		n        = 20000
		prefetch = 64
		closes   = 3
	)
	events := &eventLog{}
	client := newTestClient(t, WithObserver(events))
	spec := testSpec(t)
	tr := newIDTracker()
	t.Cleanup(func() {
		if t.Failed() { // say where it stuck: publishing, consuming, or reconnecting
			t.Logf("handled %d (%d distinct), publishes confirmed %d", tr.total.Load(), tr.distinct(), events.published.Load())
			events.dump(t)
		}
	})
	// At each close the handlers hold still until the connections are
	// closed, so every close lands mid-stream, with messages in flight and
	// prefetched, however slow rabbitmqctl is today.
	var gate atomic.Pointer[chan struct{}]
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(ctx context.Context, m *warren.Message) error {
		if g := gate.Load(); g != nil {
			<-*g
		}
		return tr.handle(ctx, m)
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(8), WithPrefetch(prefetch))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pubErr := make(chan error, 1)
	go func() { pubErr <- publishAll(ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", "m", n, 8) }()

	prefix := client.cfg.name
	for i := 1; i <= closes; i++ {
		at := int64(i * n / (closes + 1))
		eventually(t, time.Minute, fmt.Sprintf("%d messages handled (consuming resumed)", at),
			func() bool { return tr.total.Load() >= at })
		hold := make(chan struct{})
		gate.Store(&hold)
		if os.Getenv("WARREN_CHAOS_ALL") != "" {
			// make chaos: every connection on the broker, as an outage does.
			brokertest.Rabbitmqctl(t, "close_all_connections", fmt.Sprintf("warren chaos %d", i))
		} else if got := closeConnections(t, prefix, fmt.Sprintf("warren fault test %d", i)); got == 0 {
			t.Fatalf("close %d: found no connection named %s*", i, prefix)
		}
		gate.Store(nil)
		close(hold)
	}
	if err := <-pubErr; err != nil {
		t.Fatalf("publishing: %v", err)
	}
	eventually(t, 2*time.Minute, "every message handled", func() bool { return tr.distinct() == n })
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	dups := int(tr.total.Load()) - n
	t.Logf("%d messages, %d closes: %d handled, %d duplicates", n, closes, tr.total.Load(), dups)
	if dups > prefetch*closes {
		t.Fatalf("%d duplicates, more than prefetch x closes = %d", dups, prefetch*closes)
	}
	ch := brokertest.Channel(t)
	if d := depth(t, ch, spec.Queue.Name); d != 0 {
		t.Fatalf("%d messages left in the queue", d)
	}
}

// TestGracefulShutdownMidStream stops a consumer in the middle of a stream
// and starts another: every message is handled exactly once, so the
// shutdown lost nothing and redelivered nothing that had been handled.
func TestGracefulShutdownMidStream(t *testing.T) {
	const n = 3000
	client := newTestClient(t)
	spec := testSpec(t)
	tr := newIDTracker()
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(ctx context.Context, m *warren.Message) error {
		time.Sleep(time.Millisecond)
		return tr.handle(ctx, m)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	first, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(16), WithPrefetch(128))
	if err != nil {
		t.Fatal(err)
	}
	if err := publishAll(ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", "s", n, 4); err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, first)
	eventually(t, time.Minute, "a third of the stream", func() bool { return tr.total.Load() > n/3 })
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	mid := tr.total.Load()
	if mid >= n {
		t.Fatalf("the stream finished before the shutdown; make it longer")
	}
	second, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(16), WithPrefetch(128))
	if err != nil {
		t.Fatal(err)
	}
	stop2 := runConsumer(t, second)
	eventually(t, time.Minute, "the rest of the stream", func() bool { return tr.distinct() == n })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	if tr.total.Load() != n {
		t.Fatalf("handled %d times for %d messages: the shutdown at %d redelivered handled messages", tr.total.Load(), n, mid)
	}
	t.Logf("shut down after %d of %d; the second consumer handled the rest, none twice", mid, n)
}

// TestConsumerResumesAfterQueueDeleted deletes the queue under a running
// consumer: the broker cancels the consumer, and warren re-declares the
// topology and goes on consuming.
func TestConsumerResumesAfterQueueDeleted(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	tr := newIDTracker()
	r := warren.NewRouter()
	r.HandleFunc("#", tr.handle)
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := publishAll(ctx, client.Publisher(), spec.Exchange.Name, "a", "before", 10, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the first batch", func() bool { return tr.distinct() == 10 })
	ch := brokertest.Channel(t)
	if _, err := ch.QueueDelete(spec.Queue.Name, false, false, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the consumer to be back on a new queue", func() bool {
		q, err := brokertest.Channel(t).QueueDeclarePassive(spec.Queue.Name, true, false, false, false, nil)
		return err == nil && q.Consumers == 1 // bindings are declared before consuming starts
	})
	if err := publishAll(ctx, client.Publisher(), spec.Exchange.Name, "b", "after", 10, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the second batch", func() bool { return tr.distinct() == 20 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// eventLog keeps connection events and counts confirmed publishes, to
// explain a fault test that stalls.
type eventLog struct {
	warren.NopObserver
	published atomic.Int64
	mu        sync.Mutex
	lines     []string
}

func (l *eventLog) ObservePublish(e warren.PublishEvent) {
	if e.Err == nil {
		l.published.Add(1)
	}
}

func (l *eventLog) ObserveConnection(e warren.ConnectionEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s %s attempt=%d err=%v",
		time.Now().Format("15:04:05.000"), e.Name, e.State, e.Attempt, e.Err))
}

func (l *eventLog) dump(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		t.Log(line)
	}
}
