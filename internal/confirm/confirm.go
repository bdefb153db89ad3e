// Package confirm tracks the publisher confirms and returns of one AMQP
// channel: the one tracker behind warren's publisher, its requester and
// the dead-letter republisher.
//
// Confirms are amqp091-go's own deferred confirmations, completed by the
// library's frame reader as the broker's basic.ack and basic.nack arrive:
// no goroutine of ours sits between a confirm and the publisher waiting
// for it. A basic.return carries no delivery tag, so each mandatory
// publish is stamped with its own sequence number in the Header header and
// a return is matched to exactly that publish (the message id is not
// unique: warren's retry and dead-letter copies keep the original's). The
// broker sends a return before the confirm of the same message, and the
// library hands the return to the tracker's listener before it reads the
// confirm; a mandatory publish whose confirm came asks the listener for a
// barrier, so the return, if any, is marked before the publish's result is
// read. A Tracker belongs to one channel, as the library's confirmations
// do: a new channel's confirms never complete an old channel's publish.
package confirm

import (
	"errors"
	"fmt"
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
	dc        *amqp.DeferredConfirmation // once sent; under t.mu while registered
	t         *Tracker
	seq       uint64
	mandatory bool
	returned  bool // set by the listener under t.mu

	once           sync.Once
	resAck, resRet bool
	resErr         error
}

// Done is closed once the publish was confirmed, refused, or lost.
func (p *Pending) Done() <-chan struct{} { return p.dc.Done() }

// Result is valid once Done is closed: the channel's error if it was lost
// first, else whether the broker returned it (mandatory, unroutable) and
// whether it acked it.
func (p *Pending) Result() (acked, returned bool, err error) {
	p.once.Do(func() {
		acked := p.dc.Acked()
		if !acked && p.t.ch.IsClosed() {
			// The library completes every outstanding confirmation with
			// a nack when the channel shuts down; which of them the broker
			// really refused is unknown.
			p.t.forget(p)
			p.resErr = p.t.lostErr()
			return
		}
		if p.mandatory {
			p.t.barrier()
			p.resRet = p.t.forget(p)
		}
		p.resAck = acked
	})
	return p.resAck, p.resRet, p.resErr
}

// Tracker holds the mandatory publishes of one channel that a return may
// still mark, and the channel's end.
type Tracker struct {
	ch       *amqp.Channel
	lost     error              // what a publish lost with the channel completes with
	barriers chan chan struct{} // to the listener
	prune    chan struct{}      // to the listener: forget abandoned entries
	over     chan struct{}      // closed when the listener ended: the channel is gone

	mu        sync.Mutex
	mandatory map[uint64]*Pending // by sequence number
	pruneAt   int                 // size of mandatory that asks for a prune
	reason    *amqp.Error         // why the channel closed, set before over closes
}

// ErrFailed is what Publish returns once the tracker's channel is gone.
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

// minPruneAt is the number of mandatory entries below which abandoned
// ones (a publisher that stopped waiting) are not looked for.
const minPruneAt = 1024

// register records a mandatory publish, to be marked by its return,
// before it is sent: the return may come before the send returns.
func (t *Tracker) register(p *Pending) {
	t.mu.Lock()
	t.mandatory[p.seq] = p
	full := len(t.mandatory) >= t.pruneAt
	t.mu.Unlock()
	if full {
		select {
		case t.prune <- struct{}{}:
		default: // one is asked for already
		}
	}
}

// sent records the library's confirmation of a registered publish.
func (t *Tracker) sent(p *Pending, dc *amqp.DeferredConfirmation) {
	t.mu.Lock()
	p.dc = dc
	t.mu.Unlock()
}

// forget removes p from the mandatory publishes and reports whether a
// return marked it.
func (t *Tracker) forget(p *Pending) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mandatory[p.seq] == p {
		delete(t.mandatory, p.seq)
	}
	return p.returned
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
	if p, ok := t.mandatory[uint64(seq)]; ok {
		p.returned = true
	}
}

// pruneDone forgets the mandatory publishes already confirmed: their
// publisher stopped waiting (its context ended), or it would have
// forgotten them itself. It runs when the tracker holds pruneAt of them
// (twice what the last look left, at least minPruneAt), and every
// pruneEvery results read while it holds more than minPruneAt. Run by the
// listener only: a return the listener received before a confirm is marked
// before the listener looks at that confirm, so nothing it forgets can
// still be marked (and a mark stays on the Pending once it is forgotten).
func (t *Tracker) pruneDone() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for seq, p := range t.mandatory {
		if p.dc == nil { // being sent
			continue
		}
		select {
		case <-p.dc.Done():
			delete(t.mandatory, seq)
		default:
		}
	}
	t.pruneAt = max(minPruneAt, 2*len(t.mandatory))
}

// barrier returns once the listener has handled every return the library
// handed it before the call; at once if the listener has ended.
func (t *Tracker) barrier() {
	done := make(chan struct{})
	select {
	case t.barriers <- done:
		<-done
	case <-t.over:
	}
}

// lostErr is the error of a publish lost with the channel: lost, wrapping
// the broker's reason when there is one. It waits for the listener, which
// ends as the library shuts the channel down.
func (t *Tracker) lostErr() error {
	<-t.over
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reason != nil {
		return fmt.Errorf("%w: %w", t.lost, t.reason)
	}
	return t.lost
}

// Len returns how many mandatory publishes a return may still mark.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.mandatory)
}
