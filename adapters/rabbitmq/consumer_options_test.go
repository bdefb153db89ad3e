package rabbitmq

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// TestSetPrefetchWhileRunning holds every handler until released: the
// number of messages in flight is the prefetch, and changing it while the
// consumer runs changes how many arrive. The consumer resubscribes with the
// new prefetch; the 2 messages of the old subscription stay in flight, so
// 2 + 6 are.
func TestSetPrefetchWhileRunning(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	release := make(chan struct{})
	var inFlight atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("#", func(ctx context.Context, m *warren.Message) error {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(16), WithPrefetch(2))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := publishAll(ctx, client.Publisher(), spec.Exchange.Name, "k", "p", 20, 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "2 messages in flight", func() bool { return inFlight.Load() == 2 })
	time.Sleep(200 * time.Millisecond)
	if n := inFlight.Load(); n != 2 {
		t.Fatalf("%d in flight with prefetch 2", n)
	}
	if err := cons.SetPrefetch(6); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "2 + 6 messages in flight", func() bool { return inFlight.Load() == 8 })
	time.Sleep(200 * time.Millisecond)
	if n := inFlight.Load(); n != 8 {
		t.Fatalf("%d in flight after raising the prefetch to 6", n)
	}
	close(release)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := cons.SetPrefetch(-1); err == nil {
		t.Fatal("a negative prefetch was accepted")
	}
}

// TestOrderByKeepsKeyOrder publishes interleaved sequences for several
// keys: each key's messages are handled in publish order, one at a time,
// while different keys run in parallel.
func TestOrderByKeepsKeyOrder(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	const keys, perKey = 6, 40
	var mu sync.Mutex
	seen := map[string][]int{}
	active := map[string]int{}
	var overlap, parallel atomic.Int64
	var running atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("#", func(_ context.Context, m *warren.Message) error {
		key := m.Header("order-key").(string)
		seq := int(m.Header("seq").(int64))
		mu.Lock()
		active[key]++
		if active[key] > 1 {
			overlap.Add(1)
		}
		mu.Unlock()
		if running.Add(1) > 1 {
			parallel.Add(1)
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		mu.Lock()
		active[key]--
		seen[key] = append(seen[key], seq)
		mu.Unlock()
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(4), WithPrefetch(64),
		WithOrderBy(func(m *warren.Message) string { s, _ := m.Header("order-key").(string); return s }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub := client.Publisher()
	for i := 0; i < perKey; i++ {
		for k := 0; k < keys; k++ {
			err := pub.Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "order",
				Publishing: amqp.Publishing{Headers: amqp.Table{"order-key": fmt.Sprint("key-", k), "seq": int64(i)}}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	stop := runConsumer(t, cons)
	eventually(t, 20*time.Second, "every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range seen {
			n += len(s)
		}
		return n == keys*perKey
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for k, seqs := range seen {
		for i, s := range seqs {
			if s != i {
				t.Fatalf("%s handled out of order: %v", k, seqs)
			}
		}
	}
	if overlap.Load() != 0 {
		t.Fatalf("messages of one key ran concurrently %d times", overlap.Load())
	}
	if parallel.Load() == 0 {
		t.Fatal("no two keys ever ran in parallel")
	}
}
