//go:build stress

package rabbitmq

import (
	"context"
	"errors"
	"os"
	"strconv"
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
// the DLQ with warren's headers, none twice in the DLQ, none lost;
// duplicates are counted and bounded. 5,000 messages, or
// WARREN_STRESS_MESSAGES (make stress runs 5,000 and 20,000).
//
// Behind the stress tag, not in make test: it does not pass yet (see
// docs/RELIABILITY.md): after a cut, a permanent failure whose DLQ copy was
// confirmed but whose ack was lost is redelivered and dead-lettered again
// (3 to 8 of 500 twice in the DLQ), and 2 of 5 runs stalled with messages
// unhandled for 2 minutes.
func TestFaultStress(t *testing.T) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("WARREN_STRESS_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	const delay = 200 * time.Millisecond
	url := brokertest.Require(t)
	proxy := faultproxy.Start(t, "127.0.0.1:5672")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client, err := Dial(ctx, proxy.URL(url), WithName(brokertest.Name(t, "client")), WithReconnect(20*time.Millisecond, 200*time.Millisecond, 0))
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
	at(0.5)
	deleteWhenEmpty(dlq)
	at(0.65)
	deleteWhenEmpty(wait)

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
			t.Fatalf("after 30 s: %d of %d handled, %d of %d in the DLQ; work queue %d; unhandled %v", h, want, d, n/10,
				depth(t, brokertest.Channel(t), spec.Queue.Name), missingIDs)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	close(drainStop)
	<-drainDone

	mu.Lock()
	defer mu.Unlock()
	dlqMu.Lock()
	defer dlqMu.Unlock()
	dups, twiceInDLQ, lost := 0, 0, 0
	for i := 0; i < n; i++ {
		h, d := handled[i], inDLQ[i]
		if h > 1 {
			dups += h - 1
		}
		if d > 1 {
			twiceInDLQ++
		}
		if h == 0 && d == 0 {
			lost++
		}
		if i%10 == 6 && h != 0 {
			t.Errorf("message %d failed for good but was handled", i)
		}
	}
	t.Logf("%d messages: %d handled, %d in the DLQ, %d duplicate handlings, %d faults", n, len(handled), len(inDLQ), dups, faults.Load())
	if lost != 0 || twiceInDLQ != 0 || badHeaders != 0 {
		t.Errorf("lost %d, twice in the DLQ %d, DLQ copies without warren's headers %d; want 0, 0, 0", lost, twiceInDLQ, badHeaders)
	}
	// Redeliveries after a cut are bounded by what was in flight: the
	// prefetch per cut and stall, with slack.
	if bound := 4 * 64 * int(faults.Load()); dups > bound {
		t.Errorf("%d duplicate handlings, bound %d", dups, bound)
	}
}
