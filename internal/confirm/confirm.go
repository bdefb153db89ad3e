// Package confirm tracks the publisher confirms and returns of one AMQP
// channel: the one tracker behind warren's publisher, its requester and
// the dead-letter republisher.
//
// A basic.return carries no delivery tag, so each mandatory publish is
// stamped with its own sequence number in the Header header and a return
// is matched to exactly that publish (the message id is not unique: warren's retry and
// dead-letter copies keep the original's). A Tracker belongs to one
// channel: sequence numbers restart with every channel, so a new channel
// gets a new Tracker and never completes an old channel's publish.
package confirm

import (
	"errors"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Header is the header each mandatory publish carries its sequence number
// in, as an int64. It is rewritten on every mandatory publish: a value
// copied from a consumed message means nothing (a basic.return is matched
// only among the channel's own mandatory publishes).
const Header = "x-warren-publish-seq"

// Pending is one publish awaiting its confirm.
type Pending struct {
	seq      uint64
	done     chan struct{}
	ack      bool
	returned bool
	err      error
}

// Done is closed once the publish was confirmed, refused, or lost.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Result is valid once Done is closed: the channel's error if it was lost
// first, else whether the broker returned it (mandatory, unroutable) and
// whether it acked it.
func (p *Pending) Result() (acked, returned bool, err error) { return p.ack, p.returned, p.err }

// Tracker holds the publishes of one channel in sequence order.
type Tracker struct {
	mu      sync.Mutex
	pending []*Pending
	failed  error
}

// ErrFailed is what Add returns once the tracker's channel is gone.
var ErrFailed = errors.New("warren: the channel's confirms are closed")

// Stamp returns headers h with the Header for seq, in a new table: the
// caller's table is not modified.
func Stamp(h amqp.Table, seq uint64) amqp.Table {
	out := make(amqp.Table, len(h)+1)
	for k, v := range h {
		out[k] = v
	}
	out[Header] = int64(seq)
	return out
}

// Add records a publish with sequence number seq (the channel's
// GetNextPublishSeqNo before the publish). Publishes must be added in
// sequence order, under the lock that serialises the channel's publishes.
func (t *Tracker) Add(seq uint64) (*Pending, error) {
	p := &Pending{seq: seq, done: make(chan struct{})}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed != nil {
		return nil, t.failed
	}
	t.pending = append(t.pending, p)
	return p, nil
}

// Cancel forgets p, whose publish did not leave (the send failed).
func (t *Tracker) Cancel(p *Pending) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.pending); n > 0 && t.pending[n-1] == p {
		t.pending[n-1] = nil
		t.pending = t.pending[:n-1]
	}
}

// Returned marks the publish r belongs to, by its Header. A return without
// the header (not stamped by this tracker) marks nothing.
func (t *Tracker) Returned(r amqp.Return) {
	seq, ok := r.Headers[Header].(int64)
	if !ok || seq <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.pending {
		if p.seq == uint64(seq) {
			p.returned = true
			return
		}
	}
}

// Confirmed completes the publish c confirms, and any earlier one still
// pending (the broker confirms in order).
func (t *Tracker) Confirmed(c amqp.Confirmation) {
	t.mu.Lock()
	var done []*Pending
	i := 0
	for ; i < len(t.pending) && t.pending[i].seq <= c.DeliveryTag; i++ {
		done = append(done, t.pending[i])
	}
	clear(t.pending[:i])
	t.pending = t.pending[i:]
	t.mu.Unlock()
	for _, p := range done {
		p.ack = c.Ack
		close(p.done)
	}
}

// Fail completes every pending publish with err: the channel is gone and
// their fate is unknown. Later Adds fail with ErrFailed.
func (t *Tracker) Fail(err error) {
	t.mu.Lock()
	lost := t.pending
	t.pending = nil
	t.failed = ErrFailed
	t.mu.Unlock()
	for _, p := range lost {
		p.err = err
		close(p.done)
	}
}

// Len returns how many publishes await their confirm.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}
