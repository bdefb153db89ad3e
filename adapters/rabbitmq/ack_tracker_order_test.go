package rabbitmq

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestCoalescedAcksWaitForUntrackedTags tracks deliveries out of order, as
// workers that receive for themselves can (the second receiver tracks its
// tag before the first), and acks each at once, leaving some unsettled.
// A coalesced ack must not cover a tag not tracked yet: after the channel
// closes the broker must redeliver exactly the unsettled messages.
func TestCoalescedAcksWaitForUntrackedTags(t *testing.T) {
	conn := brokertest.Dial(t)
	admin, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	const n, window = 200, 4
	queue := fillQueue(t, admin, n)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(n, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newAckTracker(ch, 1, nil) // every due ack is flushed at once
	defer s.kill()
	unsettled := map[int]bool{}
	for received := 0; received < n; received += window {
		var group []int
		tags := map[int]uint64{}
		for range window {
			d := <-deliveries
			i, _ := strconv.Atoi(string(d.Body))
			group = append(group, i)
			tags[i] = d.DeliveryTag
		}
		for k := len(group) - 1; k >= 0; k-- { // the last received is tracked first
			i := group[k]
			s.track(tags[i])
			if i%7 == 2 {
				unsettled[i] = true
				continue
			}
			s.ack(tags[i])
		}
	}
	s.flushAll()
	if s.err() != nil {
		t.Fatalf("the channel refused an ack: %v", s.err())
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the unsettled messages to return", func() bool {
		return depth(t, admin, queue) >= len(unsettled)
	})
	time.Sleep(200 * time.Millisecond) // a wrong extra one would be back by now too
	back := map[int]bool{}
	for _, d := range drain(t, admin, queue) {
		i, _ := strconv.Atoi(string(d.Body))
		back[i] = true
	}
	if fmt.Sprint(sortedKeys(back)) != fmt.Sprint(sortedKeys(unsettled)) {
		t.Fatalf("redelivered %v\nwant exactly the unsettled %v", sortedKeys(back), sortedKeys(unsettled))
	}
}

// TestAckTrackerStopsCoalescingOnATagGap: tags that are not consecutive
// (one never tracked) leave every later ack to go out one by one, and the
// tags held above the gap stay bounded.
func TestAckTrackerStopsCoalescingOnATagGap(t *testing.T) {
	a := &recordingAcker{}
	s := newAckTracker(a, 8, nil)
	defer s.kill()
	for tag := uint64(2); tag < 2+maxAhead+100; tag++ { // tag 1 never comes
		s.track(tag)
		s.ack(tag)
	}
	s.flushAll()
	s.mu.Lock()
	held := len(s.ahead)
	s.mu.Unlock()
	if held > maxAhead {
		t.Fatalf("%d tags held above the gap, want at most %d", held, maxAhead)
	}
	for _, ack := range a.acks {
		if ack.multiple {
			t.Fatalf("a coalesced ack of tag %d covered tag 1, which was never tracked", ack.tag)
		}
	}
	if len(a.acks) != maxAhead+100 {
		t.Fatalf("%d acks sent, want one for each of the %d settled tags", len(a.acks), maxAhead+100)
	}
}

// recordingAcker records what the tracker sends.
type recordingAcker struct {
	acks []recordedAck
}

type recordedAck struct {
	tag      uint64
	multiple bool
}

func (a *recordingAcker) Ack(tag uint64, multiple bool) error {
	a.acks = append(a.acks, recordedAck{tag, multiple})
	return nil
}
func (a *recordingAcker) Nack(uint64, bool, bool) error { return nil }
