package deadletter

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/confirm"
)

// errConfirmLost is a replay publish whose channel closed before the
// broker confirmed it (a publish to a missing exchange closes it).
var errConfirmLost = errors.New("warren/deadletter: channel closed before the broker confirmed the publish")

// republisher publishes mandatory, on a channel in confirm mode tracked by
// a confirm.Tracker (the publisher's and the requester's tracker), and
// reopens the channel when the broker closed it.
type republisher struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	tracker *confirm.Tracker // of ch
	wg      sync.WaitGroup   // the tracker's listeners
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
	p.ch, p.tracker = ch, confirm.Watch(ch, &p.wg, errConfirmLost)
	return nil
}

// close closes the channel and waits for its listener.
func (p *republisher) close() {
	if p.ch != nil {
		_ = p.ch.Close()
		p.ch = nil
	}
	p.wg.Wait()
}

// publish publishes msg to exchange with key and returns nil only once the
// broker confirmed it and did not return it.
func (p *republisher) publish(ctx context.Context, exchange, key string, msg amqp.Publishing) error {
	where := fmt.Sprintf("exchange %q routing key %q", exchange, key)
	if p.ch == nil || p.ch.IsClosed() {
		p.close()
		if err := p.open(); err != nil {
			return err
		}
	}
	pending, err := confirm.Publish(ctx, p.ch, p.tracker, exchange, key, true, msg)
	if err != nil {
		return fmt.Errorf("warren/deadletter: publish to %s: %w", where, err)
	}
	select {
	case <-pending.Done():
	case <-ctx.Done():
		return fmt.Errorf("warren/deadletter: publish to %s: no confirm: %w", where, ctx.Err())
	}
	acked, returned, err := pending.Result()
	switch {
	case err != nil:
		return fmt.Errorf("warren/deadletter: publish to %s: %w", where, err)
	case returned:
		return fmt.Errorf("warren/deadletter: publish to %s: %w", where, warren.ErrUnroutable)
	case !acked:
		return fmt.Errorf("warren/deadletter: publish to %s: nacked by the broker", where)
	}
	return nil
}
