package partition

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	part "github.com/warren-mq/warren/partition"
)

// fleetMessages is the size of TestFleetKeepsOrderPerKey: 30,000 (about
// 6 s here), or WARREN_PARTITION_MESSAGES.
func fleetMessages(t *testing.T) int {
	if s := os.Getenv("WARREN_PARTITION_MESSAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			t.Fatalf("WARREN_PARTITION_MESSAGES=%q: want a count", s)
		}
		return n
	}
	return 30000
}

const (
	fleetKeys       = 1000
	fleetPartitions = 8
	fleetInstances  = 3
)

// ledger records every handling and checks, as it happens, that no key's
// sequence goes backwards: seq may be the next one, or (a redelivery)
// one already handled, never one that skips ahead of an unhandled one.
type ledger struct {
	mu         sync.Mutex
	last       map[int]int // key -> highest seq handled
	seen       map[int]bool
	violations []string
	handled    [fleetInstances]map[int]int // instance -> partition -> count
	killedAt   int                         // len(seen) when the kill happened, -1 before
	afterKill  [fleetInstances]map[int]int
	events     [fleetInstances][]ActivityEvent // OnActivity, in order
	victim     int
	stale      int // the victim's repeats after the kill
}

func (l *ledger) activity(inst int, e ActivityEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events[inst] = append(l.events[inst], e)
}

// activeByEvents replays instance inst's OnActivity events: the partitions
// they say it is active on.
func (l *ledger) activeByEvents(inst int) map[int]bool {
	on := map[int]bool{}
	for _, e := range l.events[inst] {
		on[e.Partition] = e.Active
	}
	for p, a := range on {
		if !a {
			delete(on, p)
		}
	}
	return on
}

func newLedger() *ledger {
	l := &ledger{last: map[int]int{}, seen: map[int]bool{}, killedAt: -1}
	for i := range l.handled {
		l.handled[i], l.afterKill[i] = map[int]int{}, map[int]int{}
	}
	return l
}

func (l *ledger) record(inst, partition, key, seq int, redelivered bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last, ok := l.last[key]
	if !ok {
		last = -1
	}
	switch {
	case seq > last+1:
		l.violations = append(l.violations, fmt.Sprintf("key %d: seq %d handled before %d (instance %d)", key, seq, last+1, inst))
	case seq <= last && inst == l.victim && l.killedAt >= 0:
		// A stale copy: the victim started it after the broker had closed
		// its connection and redelivered the message elsewhere, before the
		// client read the close (at-least-once; docs/ARCHITECTURE.md,
		// "Fencing"). Counted, not a violation.
		l.stale++
	case seq <= last && !redelivered:
		l.violations = append(l.violations, fmt.Sprintf("key %d: seq %d again after %d, not a redelivery (instance %d)", key, seq, last, inst))
	}
	if seq > last {
		l.last[key] = seq
	}
	l.seen[seq*fleetKeys+key] = true
	l.handled[inst][partition]++
	if l.killedAt >= 0 {
		l.afterKill[inst][partition]++
	}
}

func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// TestFleetKeepsOrderPerKey runs 3 instances over 8 partitions, publishes
// messages over 1,000 keys with a per-key sequence, closes one instance's
// consuming connection from the broker mid-stream, and checks that every
// message is handled, no key's sequence goes backwards, every instance
// was active on a partition, and the killed instance's partitions moved.
func TestFleetKeepsOrderPerKey(t *testing.T) {
	total := fleetMessages(t)
	exchange := brokertest.Name(t, "ex")
	layout := part.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic, AutoDelete: false},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q")},
		Partitions: fleetPartitions,
	}
	var queues []string
	for _, q := range layout.QueueNames() {
		queues = append(queues, q, warren.DeadLetterQueue(q))
	}
	brokertest.DeleteQueues(t, append(queues, part.Roster(layout.Queue.Name))...)
	brokertest.DeleteExchanges(t, exchange, part.HashExchange(layout.Queue.Name))

	led := newLedger()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		names     [fleetInstances]string
		consumers [fleetInstances]*Consumer
		runs      sync.WaitGroup
		runErrs   [fleetInstances]error
	)
	for i := range consumers {
		names[i] = brokertest.Name(t, fmt.Sprintf("inst%d", i))
		client := dialClient(t, names[i])
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
		c, err := New(ctx, client, r, layout, Rebalance(300*time.Millisecond),
			OnActivity(func(e ActivityEvent) { led.activity(inst, e) }))
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

	// The first instance to subscribe holds every partition; the
	// rebalancer hands idle ones over until each holds its share.
	brokertest.Eventually(t, 30*time.Second, "partitions spread over the fleet", func() bool {
		for _, c := range consumers {
			n := 0
			for i := range c.claimed {
				if c.claimed[i].Load() {
					n++
				}
			}
			if n == 0 || n > 3 {
				return false
			}
		}
		return true
	})

	pubClient := dialClient(t, brokertest.Name(t, "pub"))
	pub := pubClient.Publisher()
	publish := func(from, to int) { // in a goroutine: t.Error, not t.Fatal
		fail := func(err error) { t.Errorf("publish: %v", err); cancel() }
		var pending []*rabbitmq.Confirmation
		for j := from; j < to; j++ {
			key, seq := j%fleetKeys, j/fleetKeys
			cf, err := pub.PublishDeferred(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: fmt.Sprintf("Order.k%d", key),
				Publishing: amqp.Publishing{Body: []byte(fmt.Sprintf("%d:%d", key, seq))}})
			if err != nil {
				fail(err)
				return
			}
			pending = append(pending, cf)
			if len(pending) == 500 || j == to-1 {
				for _, cf := range pending {
					if err := cf.Wait(ctx); err != nil {
						fail(err)
						return
					}
				}
				pending = pending[:0]
			}
		}
	}

	// The kill comes a third of the way through, while the rest is being
	// published: the victim holds prefetched and running deliveries.
	start := time.Now()
	published := make(chan struct{})
	go func() { defer close(published); publish(0, total) }()
	brokertest.Eventually(t, 120*time.Second, "a third handled", func() bool { return led.count() >= total/3 })
	led.mu.Lock()
	for i := range consumers {
		if len(led.handled[i]) == 0 {
			t.Errorf("instance %d handled no partition: %v", i, led.handled)
		}
		for p := range led.handled[i] {
			if !consumers[i].IsActive(p) {
				t.Errorf("instance %d handled partition %d but does not report it active (Active %v)", i, p, consumers[i].Active())
			}
			if !led.activeByEvents(i)[p] {
				t.Errorf("instance %d handled partition %d but OnActivity did not say it became active: %v", i, p, led.events[i])
			}
		}
	}
	victim := led.victim
	moved := consumers[victim].Active()
	led.killedAt = len(led.seen)
	t.Logf("before the kill (%d handled): per instance and partition %v; victim active on %v", led.killedAt, led.handled, moved)
	led.mu.Unlock()
	if len(moved) == 0 {
		t.Fatal("the victim is active on no partition")
	}
	if n := brokertest.CloseConnections(t, names[victim]+".consume", "partition test: instance lost"); n != 1 {
		t.Fatalf("closed %d connections of the victim, want 1", n)
	}
	<-published
	if t.Failed() {
		return
	}
	brokertest.Eventually(t, 120*time.Second, "every message handled", func() bool { return led.count() >= total })
	t.Logf("%d messages through %d partitions on %d instances in %v", total, fleetPartitions, fleetInstances, time.Since(start))

	led.mu.Lock()
	defer led.mu.Unlock()
	for _, v := range led.violations {
		t.Error(v)
	}
	if len(led.seen) != total {
		t.Errorf("handled %d distinct messages, want %d", len(led.seen), total)
	}
	for _, p := range moved {
		taken := false
		for i := range consumers {
			if i != victim && led.afterKill[i][p] > 0 {
				taken = true
			}
		}
		if !taken {
			t.Errorf("partition %d of the lost instance was not taken over: after the kill %v", p, led.afterKill)
		}
	}
	// OnActivity said the victim lost its partitions when its connection
	// went, and each survivor became active on what it took.
	for _, p := range moved {
		lostAt := -1
		for k, e := range led.events[victim] {
			if e.Partition == p && !e.Active {
				lostAt = k
			}
		}
		if lostAt < 0 {
			t.Errorf("no OnActivity event said the victim stopped being active on partition %d: %v", p, led.events[victim])
		}
	}
	for i := range consumers {
		if i == victim {
			continue
		}
		on := led.activeByEvents(i)
		for p := range led.afterKill[i] {
			if !on[p] {
				t.Errorf("instance %d handled partition %d after the kill, but its OnActivity events do not say it is active: %v", i, p, led.events[i])
			}
		}
	}
	t.Logf("after the kill: %v; stale repeats by the victim: %d", led.afterKill, led.stale)
}
