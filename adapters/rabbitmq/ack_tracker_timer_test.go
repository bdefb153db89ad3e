package rabbitmq

import (
	"testing"
	"time"
)

// TestAckTrackerDelaySendsLoneAcks: an ack that has too few others for a
// batch goes out ackDelay later, and again each time the stream pauses:
// the delay timer is re-armed after every firing.
func TestAckTrackerDelaySendsLoneAcks(t *testing.T) {
	a := &countingAcker{}
	s := newAckTracker(a, 64, nil)
	defer s.kill()
	for tag := uint64(1); tag <= 3; tag++ {
		s.track(tag)
		start := time.Now()
		s.ack(tag)
		deadline := start.Add(2 * time.Second) // ackDelay is 5 ms: ample slack on a busy machine
		for {
			s.mu.Lock()
			acks := a.acks
			s.mu.Unlock()
			if acks == int(tag) {
				t.Logf("lone ack %d sent %v after it was due (ackDelay %v)", tag, time.Since(start).Round(time.Microsecond), ackDelay)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ack %d not sent %v after it was due (%d acks sent): the delay timer did not flush it", tag, time.Since(start), acks)
			}
			time.Sleep(time.Millisecond)
		}
	}
}
