package rabbitmq

import (
	"fmt"
	"testing"
	"time"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestHungTagKeepsTrackerBounded is defect 7 of issue 11: with the first
// delivery never settled (a hung handler), acking the 20,000 after it must
// neither keep an entry per acked tag nor rescan them on every ack. The
// tracker must stay bounded by its batch (with the settled tags it keeps
// until compacting, compactMin at most here), and every settled message
// must be acked: after the channel closes only the hung one returns.
func TestHungTagKeepsTrackerBounded(t *testing.T) {
	conn := brokertest.Dial(t)
	admin, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	const n = 20001
	queue := fillQueue(t, admin, n)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(128, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 32
	s := newAckTracker(ch, batch, nil)
	defer s.kill()
	start := time.Now()
	biggest := 0
	for i := 0; i < n; i++ { // as the consumer does: track at delivery, ack when handled
		d := <-deliveries
		s.track(d.DeliveryTag)
		if i > 0 { // the first one hangs
			s.ack(d.DeliveryTag)
		}
		biggest = max(biggest, s.held())
	}
	took := time.Since(start)
	s.flushAll()
	t.Logf("%d deliveries acked behind one hung tag: %v; the tracker held at most %d tags, %d at the end", n-1, took, biggest, s.size())
	if s.size() > 1 {
		t.Errorf("after the acks the tracker holds %d tags, want only the hung one", s.size())
	}
	if bound := 3*batch + 1 + compactMin; biggest > bound {
		t.Errorf("the tracker held %d tags, want at most %d (bounded by the batch, not by the acks)", biggest, bound)
	}
	if err := s.err(); err != nil {
		t.Fatalf("the channel refused an ack: %v", err)
	}
	_ = ch.Close()
	eventually(t, 10*time.Second, "only the hung message back in the queue", func() bool { return depth(t, admin, queue) == 1 })
}

// countingAcker counts what the tracker sends, for the benchmark.
type countingAcker struct{ acks, nacks int }

func (a *countingAcker) Ack(uint64, bool) error        { a.acks++; return nil }
func (a *countingAcker) Nack(uint64, bool, bool) error { a.nacks++; return nil }

// BenchmarkAckTracker is the tracker's cost per delivery (track + ack):
// in order, with the first tag hung, and with a window of messages in
// flight (outstanding=N: the oldest of N tracked tags is settled as each
// new one is tracked, as workers finishing in delivery order do; N is
// what a prefetch of N holds), with the default batch of half the window.
func BenchmarkAckTracker(b *testing.B) {
	for _, hung := range []bool{false, true} {
		name := "inOrder"
		if hung {
			name = "firstHung"
		}
		b.Run(name, func(b *testing.B) {
			s := newAckTracker(&countingAcker{}, 32, nil)
			defer s.kill()
			if hung {
				s.track(1)
			}
			b.ReportAllocs()
			for i := range b.N {
				tag := uint64(i) + 2
				s.track(tag)
				s.ack(tag)
			}
		})
	}
	for _, outstanding := range []int{128, 4096} {
		b.Run(fmt.Sprintf("outstanding=%d", outstanding), func(b *testing.B) {
			s := newAckTracker(&countingAcker{}, outstanding/2, nil)
			defer s.kill()
			n := uint64(outstanding)
			for tag := uint64(1); tag <= n; tag++ {
				s.track(tag)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range uint64(b.N) {
				s.track(n + 1 + i)
				s.ack(1 + i)
			}
		})
	}
}

// TestAckTrackerBatchFlushStopsTimer: a batch flushed because it was full
// stops the delay timer its first ack started, so the next ack waits a
// whole ackDelay for company instead of going out alone when the old
// timer fires (on the consume target that was one ack in seven).
func TestAckTrackerBatchFlushStopsTimer(t *testing.T) {
	a := &countingAcker{}
	s := newAckTracker(a, 2, nil)
	defer s.kill()
	for tag := uint64(1); tag <= 3; tag++ {
		s.track(tag)
	}
	s.ack(1)
	s.mu.Lock()
	armed := s.armed
	s.mu.Unlock()
	if !armed {
		t.Fatal("one ack due and no delay timer running")
	}
	s.ack(2) // the batch is full: flushed at once
	s.mu.Lock()
	armed, acks := s.armed, a.acks
	s.mu.Unlock()
	if acks != 1 {
		t.Fatalf("acks sent after a full batch = %d, want 1", acks)
	}
	if armed {
		t.Fatal("the delay timer still runs after its batch was sent: it would flush the next ack alone")
	}
}
