package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/confirm"
)

// ErrNacked is returned when the broker refused a publish (basic.nack):
// it did not take responsibility for the message.
var ErrNacked = errors.New("warren/rabbitmq: publish nacked by the broker")

// ErrConfirmLost is returned when the channel closed after a message was
// sent but before the broker confirmed it: the message may or may not have
// been enqueued.
var ErrConfirmLost = errors.New("warren/rabbitmq: channel closed before the broker confirmed the publish")

// Confirmation is the pending broker confirm of one publish.
type Confirmation struct{ p *confirm.Pending }

// Done is closed when the broker confirmed or refused the publish, or the
// channel was lost.
func (c *Confirmation) Done() <-chan struct{} { return c.p.Done() }

// Wait waits for the confirm and returns nil only if the broker took the
// message: ErrUnroutable if a mandatory publish was returned, ErrNacked if
// the broker refused it, ErrConfirmLost if the channel died first, or the
// context's error.
func (c *Confirmation) Wait(ctx context.Context) error {
	select {
	case <-c.p.Done():
		return c.result()
	case <-ctx.Done():
		return fmt.Errorf("warren/rabbitmq: waiting for publish confirm: %w", ctx.Err())
	}
}

func (c *Confirmation) result() error {
	acked, returned, err := c.p.Result()
	switch {
	case err != nil:
		return err
	case returned:
		return warren.ErrUnroutable
	case !acked:
		return ErrNacked
	default:
		return nil
	}
}

// confirmBuffer is how many confirms the library may queue for listen.
const confirmBuffer = 1024

// confirmChannel is one channel in confirm mode, reopened when lost.
// Publishes on it are serialised (mu) so that each knows its sequence
// number. Every channel it opens has its own confirm.Tracker, read by one
// goroutine: returns (matched to their publish by its stamped sequence
// number) and confirms come in the order the broker sent them, so a
// basic.return marks its publish before the confirm completes it, and a
// new channel's confirms never complete an old channel's publishes.
type confirmChannel struct {
	conn *connection

	mu      sync.Mutex // serialises publishes and (re)opening
	ch      *amqp.Channel
	tracker *confirm.Tracker // of ch
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
	cc.ch, cc.tracker = ch, &confirm.Tracker{}
	cc.wg.Add(1)
	go listen(cc.wg, cc.tracker, confirms, returns, closes)
	return nil
}

// listen completes t's publishes from the broker's returns and confirms
// until the channel closes, then fails what is left.
func listen(wg *sync.WaitGroup, t *confirm.Tracker, confirms <-chan amqp.Confirmation, returns <-chan amqp.Return, closes <-chan *amqp.Error) {
	defer wg.Done()
	for confirms != nil {
		select {
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			t.Returned(r)
		case c, ok := <-confirms:
			if !ok {
				confirms = nil
				continue
			}
			t.Confirmed(c)
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
	t.Fail(lostErr)
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
		seq := cc.ch.GetNextPublishSeqNo()
		pending, err := cc.tracker.Add(seq)
		if err != nil { // the channel closed under us: reopen
			cc.ch = nil
			continue
		}
		msg := p.Publishing
		msg.Headers = confirm.Stamp(msg.Headers, seq)
		err = cc.ch.PublishWithContext(ctx, p.Exchange, p.RoutingKey, p.Mandatory, false, msg)
		if err == nil {
			return &Confirmation{p: pending}, nil
		}
		cc.tracker.Cancel(pending)
		if !errors.Is(err, amqp.ErrClosed) || ctx.Err() != nil {
			return nil, fmt.Errorf("warren/rabbitmq: publish to %q with key %q: %w", p.Exchange, p.RoutingKey, err)
		}
		cc.ch = nil // closed under us before the message left: reopen and retry
	}
}
