package rabbitmq

import (
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// session is the settlement state of one consuming channel. Delivery tags
// are per channel, so a session lives and dies with its channel: once the
// channel is gone the session is dead and drops every ack and nack for its
// tags instead of sending them anywhere else.
//
// Acks are coalesced: basic.ack(multiple=true) for tag T is sent only when
// every tag <= T has been settled, so it never acks a message that is still
// being handled. The coalesced ack goes out when batch tags are due, or
// ackDelay after the first due one if fewer come (the stream paused: a
// consumer faster than the broker's deliveries would otherwise ack every
// message alone). Settled tags above the first unsettled one wait; when
// more than 2 x batch wait, or the delay passes, they are acked one by one,
// so a slow message never holds the prefetch window shut. Nacks are sent
// at once, one by one.
type session struct {
	ch    *amqp.Channel
	batch int         // flush the coalesced ack after this many
	timer *time.Timer // flushes what is due ackDelay after it became due

	gone atomic.Bool // mirrors dead, read without the lock

	mu       sync.Mutex
	dead     bool
	next     uint64           // lowest unsettled tag
	waiting  map[uint64]uint8 // settled tags above next
	ackable  uint64           // highest tag below next awaiting an ack, 0 if none
	unacked  int              // tags below next awaiting the coalesced ack
	armed    bool             // timer is running
	ackError error            // first error from the channel, for diagnosis
}

// ackDelay bounds how long a settled message waits for its ack when fewer
// than batch are due.
const ackDelay = 5 * time.Millisecond

const (
	stateAck  uint8 = 1 // settled, ack not sent yet
	stateDone uint8 = 2 // acked individually or nacked
)

func newSession(ch *amqp.Channel, batch int) *session {
	if batch < 1 {
		batch = 1
	}
	s := &session{ch: ch, batch: batch, next: 1, waiting: make(map[uint64]uint8)}
	s.timer = time.AfterFunc(time.Hour, s.flushDue)
	s.timer.Stop()
	return s
}

// ack settles tag as handled.
func (s *session) ack(tag uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return
	}
	if tag != s.next {
		s.waiting[tag] = stateAck
		if len(s.waiting) > s.batch*2 {
			s.ackWaitingLocked()
		} else {
			s.armLocked()
		}
		return
	}
	s.ackable, s.unacked = tag, s.unacked+1
	s.advanceLocked(tag + 1)
	if s.unacked >= s.batch {
		s.flushLocked()
	} else {
		s.armLocked()
	}
}

// armLocked starts the delay timer unless it runs already.
func (s *session) armLocked() {
	if !s.armed {
		s.armed = true
		s.timer.Reset(ackDelay)
	}
}

// flushDue runs when the delay passed: it sends every ack due, coalesced
// and stuck ones alike.
func (s *session) flushDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed = false
	if !s.dead {
		s.flushLocked()
		s.ackWaitingLocked()
	}
}

// nack settles tag with basic.nack, sent at once.
func (s *session) nack(tag uint64, requeue bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return
	}
	s.record(s.ch.Nack(tag, false, requeue))
	if tag != s.next {
		s.waiting[tag] = stateDone
		return
	}
	s.advanceLocked(tag + 1)
	if s.ackable != 0 {
		s.armLocked()
	}
}

// advanceLocked moves next past from and every settled tag after it.
func (s *session) advanceLocked(from uint64) {
	s.next = from
	for {
		st, ok := s.waiting[s.next]
		if !ok {
			return
		}
		delete(s.waiting, s.next)
		if st == stateAck {
			s.ackable, s.unacked = s.next, s.unacked+1
		}
		s.next++
	}
}

func (s *session) flushLocked() {
	if s.ackable == 0 {
		return
	}
	s.record(s.ch.Ack(s.ackable, true))
	s.ackable, s.unacked = 0, 0
}

// ackWaitingLocked acks, one by one, settled tags stuck behind an
// unsettled one.
func (s *session) ackWaitingLocked() {
	for tag, st := range s.waiting {
		if st == stateAck {
			s.record(s.ch.Ack(tag, false))
			s.waiting[tag] = stateDone
		}
	}
}

// flushAll sends every ack due, coalesced and stuck ones alike: used when
// the consumer stops, before the channel is closed.
func (s *session) flushAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return
	}
	s.flushLocked()
	s.ackWaitingLocked()
}

// kill marks the session dead: its channel is gone.
func (s *session) kill() {
	s.mu.Lock()
	s.dead = true
	s.gone.Store(true)
	s.timer.Stop()
	s.mu.Unlock()
}

// alive reports whether the session's channel is still the consumer's.
func (s *session) alive() bool { return !s.gone.Load() }

func (s *session) record(err error) {
	if err != nil && s.ackError == nil {
		s.ackError = err
	}
}
