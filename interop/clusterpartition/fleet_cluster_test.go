//go:build cluster

package clusterpartition

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	rpart "github.com/warren-mq/warren/adapters/rabbitmq/partition"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/partition"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	keys       = 1000
	partitions = 8
	instances  = 3
	// victim is the instance on the node the test stops (c3).
	victim     = 2
	victimNode = "c3"
)

// nodeURL is the AMQP URL of cluster node c<n> (c1 on 5681 ... c3 on 5683).
func nodeURL(n int) string { return fmt.Sprintf("amqp://guest:guest@127.0.0.1:568%d/", n) }

// ctl runs rabbitmqctl against node (c1, c2, c3).
func ctl(node string, args ...string) (string, error) {
	out, err := exec.Command("rabbitmqctl", append([]string{"-q", "-n", node + "@localhost"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("rabbitmqctl -n %s@localhost %v: %w\n%s", node, args, err, out)
	}
	return string(out), nil
}

// messages is the size of the test: 30,000, or WARREN_PARTITION_MESSAGES.
func messages(t *testing.T) int {
	if s := os.Getenv("WARREN_PARTITION_MESSAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 3*keys {
			t.Fatalf("WARREN_PARTITION_MESSAGES=%q: want a count of at least %d", s, 3*keys)
		}
		return n
	}
	return 30000
}

// dial dials a client called name to node c<n>, closed when the test ends.
// A client dials one node: when that node stops, the client is lost until
// it comes back (the test's instance loss).
func dial(t *testing.T, n int, name string) *rabbitmq.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := rabbitmq.Dial(ctx, nodeURL(n), rabbitmq.WithName(name), rabbitmq.WithReconnect(50*time.Millisecond, time.Second, 0))
	if err != nil {
		t.Fatalf("dial c%d: %v (start the cluster with: make cluster)", n, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ledger records every handling and checks, as it happens, that no key's
// sequence goes backwards: a handled seq is the key's next one, or (a
// redelivery) one already handled, never one past an unhandled one.
type ledger struct {
	mu         sync.Mutex
	last       map[int]int
	seen       map[int]bool
	violations []string
	before     [instances]map[int]int // instance -> partition -> handled before the stop
	after      [instances]map[int]int // the same after the stop
	stopped    time.Time
	taken      map[int]time.Duration // victim partition -> from the stop to its first handling elsewhere
	victimHeld map[int]bool
	stale      int
}

func newLedger() *ledger {
	l := &ledger{last: map[int]int{}, seen: map[int]bool{}, taken: map[int]time.Duration{}}
	for i := range l.before {
		l.before[i], l.after[i] = map[int]int{}, map[int]int{}
	}
	return l
}

func (l *ledger) record(inst, p, key, seq int, redelivered bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last, ok := l.last[key]
	if !ok {
		last = -1
	}
	switch {
	case seq > last+1:
		l.violations = append(l.violations, fmt.Sprintf("key %d: seq %d handled before %d (instance %d)", key, seq, last+1, inst))
	case seq <= last && inst == victim && !l.stopped.IsZero():
		// A stale copy: the instance on the stopped node started it after
		// the broker had given the message to another, before its client
		// saw the connection go (at-least-once). Counted, not a violation.
		l.stale++
	case seq <= last && !redelivered:
		l.violations = append(l.violations, fmt.Sprintf("key %d: seq %d again after %d, not a redelivery (instance %d)", key, seq, last, inst))
	}
	if seq > last {
		l.last[key] = seq
	}
	l.seen[seq*keys+key] = true
	if l.stopped.IsZero() {
		l.before[inst][p]++
		return
	}
	l.after[inst][p]++
	if inst != victim && l.victimHeld[p] {
		if _, ok := l.taken[p]; !ok {
			l.taken[p] = time.Since(l.stopped)
		}
	}
}

func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// TestClusterFleetSurvivesNodeStop runs 3 instances, one per node, over 8
// quorum partition queues, publishes messages over 1,000 keys with a
// per-key sequence through c1, and stops node c3 (stop_app) a third of
// the way through: the instance on c3 is lost with it. Every message must
// be handled, no key's sequence may go backwards, every instance must have
// handled a partition before the stop, and the partitions of the lost
// instance must be handled by the others after it.
func TestClusterFleetSurvivesNodeStop(t *testing.T) {
	total := messages(t)
	exchange := brokertest.Name(t, "ex")
	layout := partition.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic, Durable: true},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q"), Durable: true, Type: warren.Quorum},
		Partitions: partitions,
	}
	t.Cleanup(func() { deleteLayout(t, layout) })
	if out, err := ctl("c1", "cluster_status"); err != nil || strings.Count(out, "@localhost") < 3 {
		t.Fatalf("the cluster is not up (make cluster): %v\n%s", err, out)
	}

	led := newLedger()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		names     [instances]string
		consumers [instances]*rpart.Consumer
		runs      sync.WaitGroup
		runErrs   [instances]error
	)
	// The instance on c3 starts first: it declares the quorum queues (their
	// leaders are then on c3, the client's node) and subscribes first, so
	// the stop takes both leaders and active consumers away.
	for _, i := range []int{victim, 0, 1} {
		names[i] = brokertest.Name(t, fmt.Sprintf("inst%d", i))
		client := dial(t, i+1, names[i])
		r := warren.NewRouter()
		inst := i
		r.HandleFunc("Order.*", func(_ context.Context, m *warren.Message) error {
			var key, seq int
			if _, err := fmt.Sscanf(string(m.Body), "%d:%d", &key, &seq); err != nil {
				return warren.Permanent(err)
			}
			p, _ := strconv.Atoi(m.Queue[strings.LastIndex(m.Queue, ".p")+2:])
			led.record(inst, p, key, seq, m.Redelivered)
			return nil
		})
		c, err := rpart.New(ctx, client, r, layout, rpart.Rebalance(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		consumers[i] = c
		runs.Add(1)
		go func() { defer runs.Done(); runErrs[inst] = c.Run(ctx) }()
	}
	defer func() {
		cancel()
		runs.Wait()
		for i, err := range runErrs {
			if err != nil {
				t.Errorf("instance %d: Run: %v", i, err)
			}
		}
	}()
	lastLog := time.Now()
	brokertest.Eventually(t, 60*time.Second, "partitions spread over the fleet", func() bool {
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			for i, c := range consumers {
				t.Logf("instance %d holds %d, active on %v", i, c.Held(), c.Active())
			}
		}
		for _, c := range consumers {
			if n := c.Held(); n == 0 || n > (partitions+instances-1)/instances {
				return false
			}
		}
		return true
	})

	pub := dial(t, 1, brokertest.Name(t, "pub")).Publisher()
	published := make(chan error, 1)
	start := time.Now()
	go func() { published <- publish(ctx, pub, exchange, total) }()

	brokertest.Eventually(t, 120*time.Second, "a third handled", func() bool { return led.count() >= total/3 })
	led.mu.Lock()
	for i := range consumers {
		if len(led.before[i]) == 0 {
			t.Errorf("instance %d handled no partition before the stop: %v", i, led.before)
		}
	}
	held := consumers[victim].Active()
	led.victimHeld = map[int]bool{}
	for _, p := range held {
		led.victimHeld[p] = true
	}
	for p := range led.before[victim] {
		led.victimHeld[p] = true
	}
	led.stopped = time.Now()
	t.Logf("before the stop (%d handled): per instance and partition %v; the instance on %s is active on %v",
		len(led.seen), led.before, victimNode, held)
	led.mu.Unlock()
	if len(led.victimHeld) == 0 {
		t.Fatal("the instance on c3 handled no partition")
	}

	t.Cleanup(func() {
		if _, err := ctl(victimNode, "start_app"); err != nil {
			t.Errorf("restore %s: %v", victimNode, err)
		}
		if _, err := ctl(victimNode, "await_startup"); err != nil {
			t.Errorf("restore %s: %v", victimNode, err)
		}
	})
	if _, err := ctl(victimNode, "stop_app"); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop_app %s took %v", victimNode, time.Since(led.stopped).Round(time.Millisecond))

	if err := <-published; err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 180*time.Second, "every message handled", func() bool { return led.count() >= total })
	t.Logf("%d messages through %d quorum partitions on %d instances (one node stopped) in %v",
		total, partitions, instances, time.Since(start).Round(time.Millisecond))

	led.mu.Lock()
	defer led.mu.Unlock()
	for _, v := range led.violations {
		t.Error(v)
	}
	if len(led.seen) != total {
		t.Errorf("handled %d distinct messages, want %d", len(led.seen), total)
	}
	for p := range led.victimHeld {
		d, ok := led.taken[p]
		if !ok {
			t.Errorf("partition %d of the lost instance was not taken over: after the stop %v", p, led.after)
			continue
		}
		t.Logf("partition %d: first handled by a surviving instance %v after the stop began", p, d.Round(time.Millisecond))
	}
	survivors := map[int]bool{}
	for i := range consumers {
		if i == victim {
			continue
		}
		for _, p := range consumers[i].Active() {
			survivors[p] = true
		}
	}
	if len(survivors) != partitions {
		t.Errorf("the surviving instances are active on %d partitions (%v), want all %d", len(survivors), survivors, partitions)
	}
	t.Logf("after the stop: per instance and partition %v; stale repeats by the lost instance: %d", led.after, led.stale)
}

// publish publishes total messages over keys ("key:seq", seq counting per
// key) with confirms, 500 in flight at most. A publish without a confirm
// is an error: republishing it would put it behind later ones of its key.
func publish(ctx context.Context, pub *rabbitmq.Publisher, exchange string, total int) error {
	var pending []*rabbitmq.Confirmation
	for j := 0; j < total; j++ {
		key, seq := j%keys, j/keys
		cf, err := pub.PublishDeferred(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: fmt.Sprintf("Order.k%d", key),
			Publishing: amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(fmt.Sprintf("%d:%d", key, seq))}})
		if err != nil {
			return fmt.Errorf("publish %d: %w", j, err)
		}
		pending = append(pending, cf)
		if len(pending) == 500 || j == total-1 {
			for _, cf := range pending {
				if err := cf.Wait(ctx); err != nil {
					return fmt.Errorf("confirm before %d: %w", j, err)
				}
			}
			pending = pending[:0]
		}
	}
	return nil
}

// deleteLayout deletes the layout's queues and exchanges through c1.
func deleteLayout(t *testing.T, l partition.Layout) {
	conn, err := amqp.Dial(nodeURL(1))
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	for _, q := range l.QueueNames() {
		_, _ = ch.QueueDelete(q, false, false, false)
		_, _ = ch.QueueDelete(warren.DeadLetterQueue(q), false, false, false)
	}
	_, _ = ch.QueueDelete(partition.Roster(l.Queue.Name), false, false, false)
	_ = ch.ExchangeDelete(partition.HashExchange(l.Queue.Name), false, false)
	_ = ch.ExchangeDelete(l.Exchange.Name, false, false)
}
