package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// ErrNacked is returned when the broker refused a publish (basic.nack):
// it did not take responsibility for the message.
var ErrNacked = errors.New("warren/rabbitmq: publish nacked by the broker")

// ErrConfirmLost is returned when the channel closed after a message was
// sent but before the broker confirmed it: the message may or may not have
// been enqueued.
var ErrConfirmLost = errors.New("warren/rabbitmq: channel closed before the broker confirmed the publish")

// Confirmation is the pending broker confirm of one publish.
type Confirmation struct {
	seq      uint64
	msgID    string
	done     chan struct{}
	ack      bool
	returned bool
	err      error
}

// Done is closed when the broker confirmed or refused the publish, or the
// channel was lost.
func (c *Confirmation) Done() <-chan struct{} { return c.done }

// Wait waits for the confirm and returns nil only if the broker took the
// message: ErrUnroutable if a mandatory publish was returned, ErrNacked if
// the broker refused it, ErrConfirmLost if the channel died first, or the
// context's error.
func (c *Confirmation) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.result()
	case <-ctx.Done():
		return fmt.Errorf("warren/rabbitmq: waiting for publish confirm: %w", ctx.Err())
	}
}

func (c *Confirmation) result() error {
	switch {
	case c.err != nil:
		return c.err
	case c.returned:
		return warren.ErrUnroutable
	case !c.ack:
		return ErrNacked
	default:
		return nil
	}
}

// confirmBuffer is how many confirms the library may queue for listen.
const confirmBuffer = 1024

// confirmChannel is one channel in confirm mode. Publishes on it are
// serialised (mu) so that each knows its sequence number; confirms and
// returns are read by one goroutine, which is what lets a basic.return
// (always sent before the basic.ack of the same message) mark its publish
// before the confirm completes it.
type confirmChannel struct {
	conn *connection

	mu sync.Mutex // serialises publishes and (re)opening
	ch *amqp.Channel

	pmu     sync.Mutex // guards pending; never held while blocking
	pending []*Confirmation
	wg      *sync.WaitGroup
}

// open makes sure the channel is open, waiting for recovery up to ctx.
// Called with mu held.
func (cc *confirmChannel) open(ctx context.Context) error {
	if cc.ch != nil && !cc.ch.IsClosed() {
		return nil
	}
	ch, _, err := cc.conn.channel(ctx)
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return fmt.Errorf("warren/rabbitmq: enable publisher confirms: %w", err)
	}
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	// Confirms are buffered so the library's dispatcher rarely waits for
	// us; returns are not, so the dispatcher hands a return over before it
	// can queue the confirm of the same message, and listen, reading both
	// in one goroutine, marks the return before it sees that confirm.
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, confirmBuffer))
	returns := ch.NotifyReturn(make(chan amqp.Return))
	cc.ch = ch
	cc.wg.Add(1)
	go cc.listen(confirms, returns, closes)
	return nil
}

// listen completes pending publishes from the broker's returns and
// confirms until the channel closes, then fails what is left.
func (cc *confirmChannel) listen(confirms <-chan amqp.Confirmation, returns <-chan amqp.Return, closes <-chan *amqp.Error) {
	defer cc.wg.Done()
	for confirms != nil {
		select {
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			cc.markReturned(r.MessageId)
		case c, ok := <-confirms:
			if !ok {
				confirms = nil
				continue
			}
			cc.complete(c)
		}
	}
	// The library closes returns as it shuts the channel down; drain it so
	// that shutdown never blocks on us.
	if returns != nil {
		for range returns {
		}
	}
	lostErr := ErrConfirmLost
	select {
	case reason := <-closes:
		if reason != nil {
			lostErr = fmt.Errorf("%w: %v", ErrConfirmLost, reason)
		}
	default:
	}
	cc.pmu.Lock()
	lost := cc.pending
	cc.pending = nil
	cc.pmu.Unlock()
	for _, p := range lost {
		p.err = lostErr
		close(p.done)
	}
}

func (cc *confirmChannel) markReturned(msgID string) {
	cc.pmu.Lock()
	defer cc.pmu.Unlock()
	for _, p := range cc.pending {
		if !p.returned && p.msgID == msgID {
			p.returned = true
			return
		}
	}
}

func (cc *confirmChannel) complete(c amqp.Confirmation) {
	cc.pmu.Lock()
	var p *Confirmation
	if len(cc.pending) > 0 && cc.pending[0].seq == c.DeliveryTag {
		p = cc.pending[0]
		cc.pending[0] = nil
		cc.pending = cc.pending[1:]
	}
	cc.pmu.Unlock()
	if p != nil {
		p.ack = c.Ack
		close(p.done)
	}
}

// publish sends one message and returns its pending confirmation. If the
// channel is closed before the message is sent, it reopens it (waiting for
// recovery up to ctx) and tries again.
func (cc *confirmChannel) publish(ctx context.Context, p *warren.Publishing) (*Confirmation, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for {
		if err := cc.open(ctx); err != nil {
			return nil, err
		}
		conf := &Confirmation{seq: cc.ch.GetNextPublishSeqNo(), msgID: p.MessageId, done: make(chan struct{})}
		cc.pmu.Lock()
		cc.pending = append(cc.pending, conf)
		cc.pmu.Unlock()
		err := cc.ch.PublishWithContext(ctx, p.Exchange, p.RoutingKey, p.Mandatory, false, p.Publishing)
		if err == nil {
			return conf, nil
		}
		cc.pmu.Lock()
		if n := len(cc.pending); n > 0 && cc.pending[n-1] == conf {
			cc.pending = cc.pending[:n-1]
		}
		cc.pmu.Unlock()
		if !errors.Is(err, amqp.ErrClosed) || ctx.Err() != nil {
			return nil, fmt.Errorf("warren/rabbitmq: publish to %q with key %q: %w", p.Exchange, p.RoutingKey, err)
		}
		cc.ch = nil // closed under us before the message left: reopen and retry
	}
}
