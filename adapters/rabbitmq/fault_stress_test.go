package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/internal/testsupport/faultproxy"
	"github.com/warren-mq/warren/retry"
)

// TestFaultStress runs mixed outcomes through a fault proxy while the
// proxy cuts and stalls the client's connections and the DLQ and the wait
// queue are deleted once each: every confirmed message ends handled or in
// the DLQ with warren's headers, none dead-lettered twice, none lost;
// duplicate handlings and copies sent again after a lost confirm are
// counted and bounded. 5,000 messages, or WARREN_STRESS_MESSAGES (make
// stress runs 20,000).
func TestFaultStress(t *testing.T) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("WARREN_STRESS_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	const delay = 200 * time.Millisecond
	url := brokertest.Require(t)
	baseHeap, baseGoroutines := heapInUse(), runtime.NumGoroutine()
	proxy := faultproxy.Start(t, "127.0.0.1:5672")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dbg := &stressLog{start: time.Now()}
	client, err := Dial(ctx, proxy.URL(url), WithName(brokertest.Name(t, "client")), WithReconnect(20*time.Millisecond, 200*time.Millisecond, 0), WithObserver(dbg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	feeder := newTestClient(t)
	spec := testSpec(t, delay)
	dlq, wait := warren.DeadLetterQueue(spec.Queue.Name), warren.WaitQueue(spec.Queue.Name, delay)
	missing := brokertest.Name(t, "missing")

	var mu sync.Mutex
	handled := make(map[int]int, n)
	seen := make(map[int]int, n) // attempts by id
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(ctx context.Context, m *warren.Message) error {
		i, err := strconv.Atoi(m.MessageID)
		if err != nil {
			return warren.Permanent(err)
		}
		mu.Lock()
		seen[i]++
		first := seen[i] == 1
		mu.Unlock()
		if i%10 == 6 {
			dbg.logf("handle %d attempt=%d redelivered=%v", i, m.Attempt, m.Redelivered)
		}
		switch i % 10 {
		case 5:
			if first {
				return errors.New("transient") // delayed retry through the wait queue
			}
		case 6:
			return warren.Permanent(errors.New("invalid"))
		case 7:
			if first {
				return warren.Requeue(errors.New("not yet"))
			}
		case 8: // a handler's bad publish: closes only its own channel
			_ = warren.Publish(ctx, &warren.Publishing{Exchange: missing, RoutingKey: "x"})
		}
		mu.Lock()
		handled[i]++
		mu.Unlock()
		return nil
	})
	cons, err := client.NewConsumer(ctx, r, spec, WithWorkers(8), WithPrefetch(64), WithRetry(retry.Delays(delay)))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)

	// The DLQ is drained as it fills, so that deleting it (only when
	// empty) drops nothing the test counts.
	var dlqMu sync.Mutex
	inDLQ := map[int]int{}
	badHeaders := 0
	drainDone := make(chan struct{})
	drainStop := make(chan struct{})
	go func() {
		defer close(drainDone)
		conn := brokertest.Dial(t)
		var ch *amqp.Channel
		for {
			select {
			case <-drainStop:
				return
			default:
			}
			if ch == nil || ch.IsClosed() {
				if ch, err = conn.Channel(); err != nil {
					return
				}
			}
			d, ok, err := ch.Get(dlq, true)
			if err != nil || !ok {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			i, _ := strconv.Atoi(d.MessageId)
			dlqMu.Lock()
			inDLQ[i]++
			if d.Headers[warren.HeaderReason] == nil || d.Headers[warren.HeaderQueue] != spec.Queue.Name {
				badHeaders++
			}
			dlqMu.Unlock()
		}
	}()

	admin := brokertest.Dial(t)
	deleteWhenEmpty := func(q string) {
		for ctx.Err() == nil {
			ch, err := admin.Channel()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ch.QueueDelete(q, false, true, false) // ifEmpty
			_ = ch.Close()
			if err == nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	handledCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)
	}

	pub := feeder.Publisher()
	var pending []*Confirmation
	for i := 0; i < n; i++ {
		c, err := pub.PublishDeferred(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created",
			Publishing: amqp.Publishing{MessageId: strconv.Itoa(i), Body: []byte("{}")}})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, c)
	}
	for _, c := range pending {
		if err := c.Wait(ctx); err != nil {
			t.Fatal(err) // the feeder is not behind the proxy: every publish is confirmed
		}
	}
	pending = nil

	var faults atomic.Int32
	at := func(frac float64) {
		eventually(t, 2*time.Minute, "progress", func() bool { return float64(handledCount()) >= frac*float64(n) })
	}
	at(0.15)
	proxy.Cut(t)
	faults.Add(1)
	at(0.35)
	proxy.Stall(t)
	time.Sleep(time.Second)
	proxy.Unstall(t)
	faults.Add(1)
	// A queue deleted while copies are in flight to it takes them along
	// with a positive confirm: RabbitMQ confirms a message whose queue
	// was deleted before the message reached it, which no client can tell
	// from delivery (docs/RELIABILITY.md). So the client is kept quiet
	// (its connections stalled, what it sent already enqueued) while the
	// queue goes, as when an operator deletes a queue that nothing is
	// writing to; the copies that come after find it missing.
	quietly := func(q string) {
		proxy.Stall(t)
		time.Sleep(300 * time.Millisecond)
		deleteWhenEmpty(q)
		proxy.Unstall(t)
		faults.Add(1)
	}
	at(0.5)
	quietly(dlq)
	at(0.65)
	quietly(wait)

	want := n - n/10 // all but the permanent failures are handled
	settled := func() (h, d int) {
		dlqMu.Lock()
		defer dlqMu.Unlock()
		return handledCount(), len(inDLQ)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		h, d := settled()
		if h == want && d == n/10 {
			break
		}
		if time.Now().After(deadline) {
			mu.Lock()
			var missingIDs []int
			for i := 0; i < n && len(missingIDs) < 20; i++ {
				if handled[i] == 0 && i%10 != 6 {
					missingIDs = append(missingIDs, i)
				}
			}
			mu.Unlock()
			dlqMu.Lock()
			var missingDLQ []int
			for i := 6; i < n; i += 10 {
				if inDLQ[i] == 0 {
					missingDLQ = append(missingDLQ, i)
				}
			}
			dlqMu.Unlock()
			t.Logf("missing from the DLQ: %v", missingDLQ)
			dbg.dump(t)
			t.Fatalf("after 30 s: %d of %d handled, %d of %d in the DLQ; work queue %d; unhandled %v", h, want, d, n/10,
				depth(t, brokertest.Channel(t), spec.Queue.Name), missingIDs)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	close(drainStop)
	<-drainDone
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	// The client's goroutines and memory go with it (the test's own maps
	// and the feeder stay: a few MB at most).
	eventually(t, 10*time.Second, "goroutines back to baseline", func() bool {
		return runtime.NumGoroutine() <= baseGoroutines+goroutineSlack
	})
	if heap := heapInUse(); heap > baseHeap+heapSlack {
		t.Errorf("heap in use %d KiB after Close, %d KiB before: more than %d KiB kept", heap>>10, baseHeap>>10, heapSlack>>10)
	} else {
		t.Logf("heap in use %d KiB after Close, %d KiB before; goroutines %d, %d before", heap>>10, baseHeap>>10, runtime.NumGoroutine(), baseGoroutines)
	}

	mu.Lock()
	defer mu.Unlock()
	dlqMu.Lock()
	defer dlqMu.Unlock()
	// A message in the DLQ twice was either settled twice (its handler ran
	// again: a second copy) or had its one copy sent again after the
	// copy's confirm was lost (its handler ran once).
	dups, lost, resent, settledTwice := 0, 0, 0, 0
	for i := 0; i < n; i++ {
		h, d := handled[i], inDLQ[i]
		if h > 1 {
			dups += h - 1
		}
		switch {
		case d > 1 && seen[i] > 1:
			settledTwice++
		case d > 1:
			resent += d - 1
		}
		if h == 0 && d == 0 {
			lost++
		}
		if i%10 == 6 && h != 0 {
			t.Errorf("message %d failed for good but was handled", i)
		}
	}
	t.Logf("%d messages: %d handled, %d in the DLQ, %d duplicate handlings, %d copies sent again after a lost confirm, %d faults",
		n, len(handled), len(inDLQ), dups, resent, faults.Load())
	if t.Failed() || lost != 0 || settledTwice != 0 {
		dbg.dump(t)
	}
	if lost != 0 || settledTwice != 0 || badHeaders != 0 {
		t.Errorf("lost %d, dead-lettered twice %d, DLQ copies without warren's headers %d; want 0, 0, 0", lost, settledTwice, badHeaders)
	}
	// A copy is sent again only when its confirm was lost in a fault:
	// at most what was in flight.
	if bound := 64 * int(faults.Load()); resent > bound {
		t.Errorf("%d copies sent again, bound %d", resent, bound)
	}
	// Redeliveries after a cut are bounded by what was in flight: the
	// prefetch per cut and stall, with slack.
	if bound := 4 * 64 * int(faults.Load()); dups > bound {
		t.Errorf("%d duplicate handlings, bound %d", dups, bound)
	}
}

// stressLog records what the consumer reported during the run, for a
// failure to show.
type stressLog struct {
	start time.Time
	mu    sync.Mutex
	lines []string
}

func (d *stressLog) logf(f string, a ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lines = append(d.lines, fmt.Sprintf("%8.3fs ", time.Since(d.start).Seconds())+fmt.Sprintf(f, a...))
}

// dump logs the last 300 lines.
func (d *stressLog) dump(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	lines := d.lines
	if len(lines) > 300 {
		lines = lines[len(lines)-300:]
	}
	t.Logf("consumer log (last %d lines):\n%s", len(lines), strings.Join(lines, "\n"))
}

func (d *stressLog) ObserveSettle(e warren.SettleEvent) {
	if e.Action != warren.ActionAck {
		d.logf("settle %s reason=%s attempt=%d err=%v", e.Action, e.Reason, e.Attempt, e.Err)
	}
}
func (d *stressLog) ObserveRetry(warren.RetryEvent) {}
func (d *stressLog) ObservePublish(e warren.PublishEvent) {
	if e.Err != nil {
		d.logf("publish to %q key %q: %v", e.Exchange, e.RoutingKey, e.Err)
	}
}
func (d *stressLog) ObserveConnection(e warren.ConnectionEvent) {
	d.logf("connection %s %v %v", e.Name, e.State, e.Err)
}
func (d *stressLog) ObserveConsumer(e ConsumerEvent) { d.logf("consumer %s %v", e.Kind, e.Err) }

// goroutineSlack and heapSlack bound what may remain after the client is
// closed: the feeder client, the drain and admin connections and the
// proxy (a few goroutines each), and the test's own bookkeeping.
const (
	goroutineSlack = 40
	heapSlack      = 16 << 20
)

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
