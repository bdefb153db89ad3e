package deadletter

import (
	"context"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// republisher publishes one message at a time, mandatory, on a channel in
// confirm mode, and reopens the channel when the broker closed it (a
// publish to a missing exchange does).
type republisher struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
	closes  chan *amqp.Error
}

func (p *republisher) open() error {
	ch, err := p.conn.Channel()
	if err != nil {
		return fmt.Errorf("warren/deadletter: open publish channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return fmt.Errorf("warren/deadletter: confirm mode: %w", err)
	}
	// One publish is in flight at a time, and the broker sends its
	// basic.return before its basic.ack: a buffer of one never blocks the
	// connection's reader.
	p.returns = ch.NotifyReturn(make(chan amqp.Return, 1))
	p.closes = ch.NotifyClose(make(chan *amqp.Error, 1))
	p.ch = ch
	return nil
}

func (p *republisher) close() {
	if p.ch != nil {
		_ = p.ch.Close()
		p.ch = nil
	}
}

// publish republishes d to e's origin and returns nil only once the broker
// confirmed it and did not return it.
func (p *republisher) publish(ctx context.Context, e *Entry, d *amqp.Delivery) error {
	if p.ch == nil || p.ch.IsClosed() {
		p.close()
		if err := p.open(); err != nil {
			return err
		}
	}
	select { // a return left over from an earlier publish is not ours
	case <-p.returns:
	default:
	}
	where := fmt.Sprintf("exchange %q routing key %q", e.OriginalExchange, e.OriginalRoutingKey)
	dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, e.OriginalExchange, e.OriginalRoutingKey, true, false, ReplayPublishing(d))
	if err != nil {
		return fmt.Errorf("warren/deadletter: publish to %s: %w", where, err)
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("warren/deadletter: publish to %s: no confirm: %w", where, err)
	}
	select {
	case r, ok := <-p.returns: // closed, not returned, when the channel closed
		if ok {
			return fmt.Errorf("warren/deadletter: publish to %s: %w (%d %s)", where, warren.ErrUnroutable, r.ReplyCode, r.ReplyText)
		}
	default:
	}
	if !acked {
		// A closed channel nacks what it had in flight; the broker sent
		// why before that.
		select {
		case ae, ok := <-p.closes:
			if ok && ae != nil {
				return fmt.Errorf("warren/deadletter: publish to %s: %w", where, ae)
			}
			return fmt.Errorf("warren/deadletter: publish to %s: %w", where, amqp.ErrClosed)
		default:
			return fmt.Errorf("warren/deadletter: publish to %s: nacked by the broker", where)
		}
	}
	return nil
}
