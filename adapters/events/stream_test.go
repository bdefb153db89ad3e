package events

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// publishRange publishes events first..last-1 (payload: the number as 4
// bytes) from 64 goroutines, so that publisher confirms overlap.
func publishRange(t testing.TB, s *RabbitStream, topic string, first, last int) {
	t.Helper()
	publishWith(t, s, topic, first, last, 64)
}

// publishWith is publishRange with a number of goroutines; with one, the
// events are published in order.
func publishWith(t testing.TB, s *RabbitStream, topic string, first, last, workers int) {
	t.Helper()
	var next atomic.Int64
	next.Store(int64(first))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1) - 1)
				if n >= last {
					return
				}
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], uint32(n))
				if err := s.Publish(topic, b[:]); err != nil {
					errs <- fmt.Errorf("publish %d: %w", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func number(ev Event) int { return int(binary.BigEndian.Uint32(ev.Payload)) }

// collector counts the events that consumers hand it, by number.
type collector struct {
	mu    sync.Mutex
	seen  map[int]int
	total int
	by    map[string]int // consumer name -> count
}

func newCollector() *collector { return &collector{seen: map[int]int{}, by: map[string]int{}} }

// drain reads ch until it closes or the collector is told to stop, acking
// in manual mode.
func (c *collector) drain(name string, ch <-chan Event, manual bool) {
	for ev := range ch {
		if manual {
			if err := ev.Ack(); err != nil {
				panic(fmt.Sprintf("%s: ack %s: %v", name, ev.ID, err))
			}
		}
		c.mu.Lock()
		c.seen[number(ev)]++
		c.total++
		c.by[name]++
		c.mu.Unlock()
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// TestTenThousand publishes 10,000 events in two batches a pause apart
// and checks the consumers: two in one group split them, each of two other
// groups sees all of them, and a consumer replaying from a time between
// the batches sees exactly the second batch.
func TestTenThousand(t *testing.T) {
	const n, half = 10000, 5000
	e := newEnv(t)
	topic := e.topic("orders.placed", "split", "audit", "billing")

	split, audit, billing := newCollector(), newCollector(), newCollector()
	var wg sync.WaitGroup
	run := func(c *collector, name string, ch <-chan Event, manual bool) {
		wg.Add(1)
		go func() { defer wg.Done(); c.drain(name, ch, manual) }()
	}
	run(split, "split-1", e.consume(topic, WithGroup("split"), WithAutoAck(false, 10*time.Second)), true)
	run(split, "split-2", e.consume(topic, WithGroup("split"), WithAutoAck(false, 10*time.Second)), true)
	run(audit, "audit", e.consume(topic, WithGroup("audit")), false)
	run(billing, "billing", e.consume(topic, WithGroup("billing")), false)

	start := time.Now()
	publishRange(t, e.stream, topic, 0, half)
	// The broker places WithOffset on whole seconds of its own clock; a
	// pause of more than a second each side of the offset makes the test
	// independent of that (the consumer's own filter is finer).
	time.Sleep(1100 * time.Millisecond)
	offset := time.Now()
	time.Sleep(1100 * time.Millisecond)
	publishRange(t, e.stream, topic, half, n)
	elapsed := time.Since(start) - 2200*time.Millisecond
	t.Logf("published %d events in %v (%.0f/s, 64 publishers)", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())

	replay := newCollector()
	run(replay, "replay", e.consume(topic, WithOffset(offset)), false)

	for _, c := range []struct {
		name string
		c    *collector
		want int
	}{{"split", split, n}, {"audit", audit, n}, {"billing", billing, n}, {"replay", replay, n - half}} {
		eventually(t, 30*time.Second, c.name+" to see its events", func() bool { return c.c.count() >= c.want })
	}
	time.Sleep(200 * time.Millisecond) // let duplicates, if any, arrive
	t.Logf("consumed in %v", time.Since(start).Round(time.Millisecond))
	_ = e.stream.Close()
	wg.Wait()

	t.Run("one group splits", func(t *testing.T) {
		if split.total != n || len(split.seen) != n {
			t.Fatalf("group handled %d events, %d distinct; want %d each", split.total, len(split.seen), n)
		}
		if split.by["split-1"] == 0 || split.by["split-2"] == 0 {
			t.Fatalf("one consumer did all the work: %v", split.by)
		}
		t.Logf("shares: %v", split.by)
	})
	t.Run("each group sees all", func(t *testing.T) {
		for name, c := range map[string]*collector{"audit": audit, "billing": billing} {
			if c.total != n || len(c.seen) != n {
				t.Errorf("%s: %d events, %d distinct; want %d", name, c.total, len(c.seen), n)
			}
		}
	})
	t.Run("offset replays from there on", func(t *testing.T) {
		if replay.total != n-half || len(replay.seen) != n-half {
			t.Fatalf("replay: %d events, %d distinct; want %d", replay.total, len(replay.seen), n-half)
		}
		for i := half; i < n; i++ {
			if replay.seen[i] != 1 {
				t.Fatalf("replay did not see event %d", i)
			}
		}
	})
}

// TestConcurrentFirstPublish publishes to a topic no one has declared yet
// from many goroutines of two processes at once (two clients): the stream
// queue's creation race in the broker must not fail any of them.
func TestConcurrentFirstPublish(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t, WithName(e.name)) // another "process" on the same stream
	topic := e.topic("first.publish")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		for _, s := range []*RabbitStream{e.stream, other.stream} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Publish(topic, i); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := e.stream.Consume(topic, WithOffset(time.Now().Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		receive(t, got, 10*time.Second)
	}
}
