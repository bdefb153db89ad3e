package confirm

import (
	"context"
	"errors"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Watch starts tracking the returns of ch, a channel already in confirm
// mode, and returns its Tracker. One goroutine (counted in wg) reads the
// returns, unbuffered, so the library's reader hands a return over before
// it reads the confirm of the same message, and answers the barriers of
// mandatory publishes whose confirm came. When ch closes, every publish
// still pending completes as lost (lost, wrapping the broker's reason when
// there is one), and the tracker takes no more.
func Watch(ch *amqp.Channel, wg *sync.WaitGroup, lost error) *Tracker {
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	returns := ch.NotifyReturn(make(chan amqp.Return))
	t := &Tracker{
		ch: ch, lost: lost,
		barriers:  make(chan chan struct{}),
		prune:     make(chan struct{}, 1),
		over:      make(chan struct{}),
		mandatory: map[uint64]*Pending{},
		pruneAt:   minPruneAt,
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.listen(returns, closes)
	}()
	return t
}

// pruneEvery is how many barriers the listener answers between two looks
// for abandoned mandatory publishes (when there are more than minPruneAt).
const pruneEvery = 1024

func (t *Tracker) listen(returns <-chan amqp.Return, closes <-chan *amqp.Error) {
	barriers := 0
	for {
		select {
		case r, ok := <-returns:
			if !ok { // the library closes returns as it shuts the channel down
				t.end(closes)
				return
			}
			t.Returned(r)
		case done := <-t.barriers:
			close(done)
			if barriers++; barriers%pruneEvery == 0 && t.Len() > minPruneAt {
				t.pruneDone()
			}
		case <-t.prune:
			t.pruneDone()
		}
	}
}

// end records why the channel closed and marks the tracker over. The
// library sends the reason, and closes closes, before it closes returns.
func (t *Tracker) end(closes <-chan *amqp.Error) {
	var reason *amqp.Error
	select {
	case reason = <-closes:
	default:
	}
	t.mu.Lock()
	t.reason = reason
	t.mu.Unlock()
	close(t.over)
}

// errNotConfirming is returned by Publish on a channel not in confirm mode.
var errNotConfirming = errors.New("warren: publish on a channel not in confirm mode")

// Publish sends msg on ch as t's next publish and returns its Pending. A
// mandatory publish is stamped with its sequence number (Header), which
// matches a basic.return to it; the broker returns nothing else, so other
// publishes go as they are, without a header table to copy and encode.
// The caller serialises the channel's publishes (so that the sequence
// number read is the one the broker assigns). ErrFailed means t's channel
// is already gone; an error from the send itself (amqp.ErrClosed when the
// channel closed before the message left) is returned as is, and nothing
// is pending.
func Publish(ctx context.Context, ch *amqp.Channel, t *Tracker, exchange, key string, mandatory bool, msg amqp.Publishing) (*Pending, error) {
	select {
	case <-t.over:
		return nil, ErrFailed
	default:
	}
	p := &Pending{t: t, mandatory: mandatory}
	if mandatory { // only a mandatory publish can come back as a basic.return
		p.seq = ch.GetNextPublishSeqNo()
		msg.Headers = Stamp(msg.Headers, p.seq)
		t.register(p)
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, mandatory, false, msg)
	if err == nil && dc == nil {
		err = errNotConfirming
	}
	if err != nil {
		if mandatory {
			t.forget(p)
		}
		return nil, err
	}
	if mandatory {
		t.sent(p, dc)
	} else {
		p.dc = dc
	}
	return p, nil
}
