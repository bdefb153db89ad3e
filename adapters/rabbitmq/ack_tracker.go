package rabbitmq

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// acker is what the ack tracker sends on: the consuming *amqp.Channel, or a
// recorder in the tracker's benchmark.
type acker interface {
	Ack(tag uint64, multiple bool) error
	Nack(tag uint64, multiple, requeue bool) error
}

// ackTracker settles the delivery tags of one consuming channel. Tags are
// per channel, so a tracker lives and dies with its channel: once the
// channel is gone the tracker is dead and drops every ack and nack instead
// of sending them anywhere else.
//
// It keeps the tags delivered and not yet settled (at most the prefetch,
// in delivery order; settling one costs the same at any prefetch) and the
// tags settled by an ack not yet sent. Acks are
// coalesced: basic.ack(multiple=true) for tag T is sent only when T is
// below every unsettled tag, so it never acks a message that is still
// being handled. The coalesced ack goes out when batch acks are due, or
// ackDelay after the first due one if fewer come (the stream paused: a
// consumer faster than the broker's deliveries would otherwise ack every
// message alone). Acks above the lowest unsettled tag wait; when more than
// 2 x batch wait, or the delay passes, they are sent one by one, so a
// slow or hung message never holds the prefetch window shut, and nothing
// is kept for them once sent. Nacks are sent at once, one by one.
type ackTracker struct {
	ch      acker
	batch   int
	timer   *time.Timer
	onError func(error) // an ack or nack the channel refused

	gone atomic.Bool // mirrors dead, read without the lock

	mu   sync.Mutex
	dead bool
	// The delivered tags, ascending, with their routing keys: tags[head]
	// is the lowest unsettled one. A tag settled out of order is marked in
	// settled and stays in place until head passes it or compactLocked
	// removes it, so settling costs the same whatever the prefetch.
	tags     []uint64
	keys     []string
	settled  []bool
	head     int
	live     int      // tags not settled
	due      []uint64 // settled by an ack that is not sent yet
	armed    bool     // timer is running
	firstErr error
}

// compactMin is how many settled tags the tracker keeps in place at
// least before compacting: fewer are not worth the copy.
const compactMin = 64

// ackDelay bounds how long a settled message waits for its ack when fewer
// than batch are due.
const ackDelay = 5 * time.Millisecond

func newAckTracker(ch acker, batch int, onError func(error)) *ackTracker {
	if batch < 1 {
		batch = 1
	}
	t := &ackTracker{ch: ch, batch: batch, onError: onError}
	t.timer = time.AfterFunc(time.Hour, t.flushDue)
	t.timer.Stop()
	return t
}

// setBatch changes how many due acks are coalesced: the prefetch changed.
// Acks already due go out at once if they fill the new batch.
func (t *ackTracker) setBatch(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.batch = max(1, n)
	if !t.dead && len(t.due) >= t.batch {
		t.flushLocked(false)
		if len(t.due) == 0 {
			t.disarmLocked()
		}
	}
}

// track records tag as delivered and unsettled. Tags are tracked in the
// order the channel delivers them, before the delivery reaches a worker.
func (t *ackTracker) track(tag uint64) { t.trackKey(tag, "") }

// trackKey is track for a delivery with routing key key, which
// oldestKey reports.
func (t *ackTracker) trackKey(tag uint64, key string) {
	t.mu.Lock()
	if !t.dead {
		t.tags = append(t.tags, tag)
		t.keys = append(t.keys, key)
		t.settled = append(t.settled, false)
		t.live++
	}
	t.mu.Unlock()
}

// oldestKey returns the routing key of the oldest unsettled delivery.
func (t *ackTracker) oldestKey() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live == 0 {
		return ""
	}
	return t.keys[t.head]
}

// lowestLocked returns the lowest unsettled tag, or the largest tag there
// is when none is unsettled.
func (t *ackTracker) lowestLocked() uint64 {
	if t.live == 0 {
		return ^uint64(0)
	}
	return t.tags[t.head]
}

// settledLocked marks tag settled. head moves past the settled tags at the
// front; the settled ones behind an unsettled tag are removed once they
// outnumber the unsettled ones (and are compactMin at least), so the
// slices stay within twice the unsettled tags plus compactMin.
func (t *ackTracker) settledLocked(tag uint64) {
	i, ok := slices.BinarySearch(t.tags[t.head:], tag)
	if !ok || t.settled[t.head+i] {
		return
	}
	i += t.head
	t.settled[i] = true
	t.keys[i] = ""
	t.live--
	for t.head < len(t.tags) && t.settled[t.head] {
		t.head++
	}
	if settled := len(t.tags) - t.live; t.live == 0 || settled >= compactMin && settled > t.live {
		t.compactLocked()
	}
}

// compactLocked removes the settled tags, keeping the unsettled ones in
// order at the front.
func (t *ackTracker) compactLocked() {
	n := 0
	for i := t.head; i < len(t.tags); i++ {
		if !t.settled[i] {
			t.tags[n], t.keys[n], t.settled[n] = t.tags[i], t.keys[i], false
			n++
		}
	}
	clear(t.keys[n:])
	t.tags, t.keys, t.settled = t.tags[:n], t.keys[:n], t.settled[:n]
	t.head = 0
}

// ack settles tag as handled.
func (t *ackTracker) ack(tag uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return
	}
	t.settledLocked(tag)
	t.due = append(t.due, tag)
	if len(t.due) >= t.batch {
		t.flushLocked(false)
		if len(t.due) > 2*t.batch {
			t.flushLocked(true)
		}
	}
	if len(t.due) > 0 {
		t.armLocked()
	} else {
		t.disarmLocked()
	}
}

// nack settles tag with basic.nack, sent at once.
func (t *ackTracker) nack(tag uint64, requeue bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return
	}
	t.settledLocked(tag)
	t.record(t.ch.Nack(tag, false, requeue))
}

// flushLocked sends one coalesced ack for the due tags below the lowest
// unsettled one and, when all is true, acks the others one by one.
func (t *ackTracker) flushLocked(all bool) {
	low := t.lowestLocked()
	var upTo uint64
	kept := t.due[:0]
	for _, tag := range t.due {
		switch {
		case tag < low:
			upTo = max(upTo, tag)
		case all:
			t.record(t.ch.Ack(tag, false))
		default:
			kept = append(kept, tag)
		}
	}
	if upTo != 0 {
		t.record(t.ch.Ack(upTo, true))
	}
	clear(t.due[len(kept):])
	t.due = kept
}

// armLocked starts the delay timer unless it runs already.
func (t *ackTracker) armLocked() {
	if !t.armed {
		t.armed = true
		t.timer.Reset(ackDelay)
	}
}

// disarmLocked stops the delay timer when nothing is due any more: the
// next due ack starts a full delay of its own instead of being flushed
// early, alone, by a timer a batch already sent had started.
func (t *ackTracker) disarmLocked() {
	if t.armed {
		t.armed = false
		t.timer.Stop()
	}
}

// flushDue runs when the delay passed: it sends every ack due.
func (t *ackTracker) flushDue() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed = false
	if !t.dead {
		t.flushLocked(true)
	}
}

// flushAll sends every ack due: used when the consumer stops, before the
// channel is closed.
func (t *ackTracker) flushAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.dead {
		t.flushLocked(true)
	}
}

// kill marks the tracker dead: its channel is gone.
func (t *ackTracker) kill() {
	t.mu.Lock()
	t.dead = true
	t.gone.Store(true)
	t.timer.Stop()
	t.mu.Unlock()
}

// alive reports whether the tracker's channel is still the consumer's.
func (t *ackTracker) alive() bool { return !t.gone.Load() }

// size is how many tags the tracker has to settle or send: unsettled and
// due.
func (t *ackTracker) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live + len(t.due)
}

// held is how many tags the tracker keeps in memory: size, and the tags
// settled out of order that are not compacted away yet.
func (t *ackTracker) held() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.tags) + len(t.due)
}

// err returns the first error the channel returned for an ack or nack.
func (t *ackTracker) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.firstErr
}

func (t *ackTracker) record(err error) {
	if err == nil {
		return
	}
	if t.firstErr == nil {
		t.firstErr = err
	}
	if t.onError != nil {
		t.onError(err)
	}
}
