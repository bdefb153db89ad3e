package confirm

import (
	"context"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// confirmBuffer is how many confirms the library may queue for a listener.
const confirmBuffer = 1024

// Watch starts tracking the confirms and returns of ch, a channel already
// in confirm mode or about to be put in it, and returns its Tracker. One
// goroutine (counted in wg) reads both: confirms are buffered so the
// library's dispatcher rarely waits for it; returns are not, so the
// dispatcher hands a return over before it can queue the confirm of the
// same message, and the return marks its publish before that confirm
// completes it. When ch closes, every publish still pending fails with
// lost, wrapped with the broker's reason when there is one.
func Watch(ch *amqp.Channel, wg *sync.WaitGroup, lost error) *Tracker {
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, confirmBuffer))
	returns := ch.NotifyReturn(make(chan amqp.Return))
	t := &Tracker{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.listen(confirms, returns, closes, lost)
	}()
	return t
}

func (t *Tracker) listen(confirms <-chan amqp.Confirmation, returns <-chan amqp.Return, closes <-chan *amqp.Error, lost error) {
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
	select {
	case reason := <-closes:
		if reason != nil {
			lost = fmt.Errorf("%w: %w", lost, reason)
		}
	default:
	}
	t.Fail(lost)
}

// Publish sends msg on ch as t's next publish and returns its Pending. A
// mandatory publish is stamped with its sequence number (Header), which
// matches a basic.return to it; the broker returns nothing else, so other
// publishes go as they are, without a header table to copy and encode. The caller serialises the channel's
// publishes (so that the sequence number read is the one the broker
// assigns). ErrFailed means t's channel is already gone; an error from the
// send itself (amqp.ErrClosed when the channel closed before the message
// left) is returned as is, and nothing is pending.
func Publish(ctx context.Context, ch *amqp.Channel, t *Tracker, exchange, key string, mandatory bool, msg amqp.Publishing) (*Pending, error) {
	seq := ch.GetNextPublishSeqNo()
	p, err := t.Add(seq)
	if err != nil {
		return nil, err
	}
	if mandatory { // only a mandatory publish can come back as a basic.return
		msg.Headers = Stamp(msg.Headers, seq)
	}
	if err := ch.PublishWithContext(ctx, exchange, key, mandatory, false, msg); err != nil {
		t.Cancel(p)
		return nil, err
	}
	return p, nil
}
