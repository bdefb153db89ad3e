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
	cc.ch, cc.tracker = ch, confirm.Watch(ch, cc.wg, ErrConfirmLost)
	return nil
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
		pending, err := confirm.Publish(ctx, cc.ch, cc.tracker, p.Exchange, p.RoutingKey, p.Mandatory, p.Publishing)
		switch {
		case err == nil:
			return &Confirmation{p: pending}, nil
		case errors.Is(err, confirm.ErrFailed): // the channel closed under us: reopen
			cc.ch = nil
			continue
		case !errors.Is(err, amqp.ErrClosed) || ctx.Err() != nil:
			return nil, fmt.Errorf("warren/rabbitmq: publish to %q with key %q: %w", p.Exchange, p.RoutingKey, err)
		}
		cc.ch = nil // closed under us before the message left: reopen and retry
	}
}
