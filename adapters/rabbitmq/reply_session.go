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

// errNotSent means the session's channel closed before a request left: it
// is safe to send it again on a new channel.
var errNotSent = errors.New("warren/rabbitmq: request not sent: channel closed")

// replySession is one requester channel: requests are published on it (in
// confirm mode, mandatory) and their replies consumed from it, since
// RabbitMQ delivers direct reply-to replies only to the channel that
// published the request. It lives and dies with its channel; calls in
// flight when it dies fail with ErrRequestLost.
//
// The channel's confirms and returns are tracked by a confirm.Tracker, as
// the publisher's are (a return is matched to its publish by the stamped
// sequence number); listen reads the replies.
type replySession struct {
	ch      *amqp.Channel
	replyTo string
	dropped func()
	tracker *confirm.Tracker // of ch

	pubMu sync.Mutex // serialises publishes, so each knows its sequence number

	mu      sync.Mutex                 // guards pending and err; never held while blocking
	pending map[string]*pendingRequest // by correlation id, until the reply or the caller gives up
	err     error                      // why the channel closed
	dead    chan struct{}              // closed when the channel is gone
}

// pendingRequest is one request waiting for its confirm and its reply.
type pendingRequest struct {
	corr      string
	confirmed *confirm.Pending
	reply     chan amqp.Delivery // buffered
}

func newReplySession(ch *amqp.Channel, tracker *confirm.Tracker, replyTo string, dropped func()) *replySession {
	return &replySession{
		ch:      ch,
		replyTo: replyTo,
		dropped: dropped,
		tracker: tracker,
		pending: make(map[string]*pendingRequest),
		dead:    make(chan struct{}),
	}
}

// gone reports whether the session's channel has closed.
func (s *replySession) gone() bool {
	select {
	case <-s.dead:
		return true
	default:
		return false
	}
}

// lost returns the error of a request whose channel closed under it.
func (s *replySession) lost() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// publish sends p as a request with correlation id p.CorrelationId and
// returns it as a pendingRequest. errNotSent means the channel was closed before the
// message left.
func (s *replySession) publish(ctx context.Context, p *warren.Publishing) (*pendingRequest, error) {
	c := &pendingRequest{corr: p.CorrelationId, reply: make(chan amqp.Delivery, 1)}
	p.ReplyTo = s.replyTo
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if s.gone() || s.ch.IsClosed() {
		return nil, errNotSent
	}
	s.mu.Lock()
	s.pending[c.corr] = c
	s.mu.Unlock()
	pending, err := confirm.Publish(ctx, s.ch, s.tracker, p.Exchange, p.RoutingKey, p.Mandatory, p.Publishing)
	if err == nil {
		c.confirmed = pending
		return c, nil
	}
	s.mu.Lock()
	delete(s.pending, c.corr)
	s.mu.Unlock()
	if errors.Is(err, confirm.ErrFailed) || errors.Is(err, amqp.ErrClosed) && ctx.Err() == nil {
		return nil, errNotSent
	}
	return nil, fmt.Errorf("warren/rabbitmq: publish request to %q with key %q: %w", p.Exchange, p.RoutingKey, err)
}

// waitConfirm waits for the broker's confirm of c: nil, ErrUnroutable,
// ErrNacked, or ErrRequestLost when the channel closed first.
func (s *replySession) waitConfirm(ctx context.Context, c *pendingRequest) error {
	select {
	case <-c.confirmed.Done():
		acked, returned, err := c.confirmed.Result()
		switch {
		case err != nil:
			return err
		case returned:
			return warren.ErrUnroutable
		case !acked:
			return ErrNacked
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forget stops waiting for c's reply: one that comes later is dropped and
// counted.
func (s *replySession) forget(c *pendingRequest) {
	s.mu.Lock()
	delete(s.pending, c.corr)
	s.mu.Unlock()
}

// listen dispatches replies until the channel closes, then waits for the
// channel's close and marks the session dead.
func (s *replySession) listen(deliveries <-chan amqp.Delivery, closes <-chan *amqp.Error) {
	for d := range deliveries {
		s.deliver(&d)
	}
	if !s.ch.IsClosed() {
		// The broker cancelled our consumer (its reply queue was deleted):
		// without replies the channel is useless.
		_ = s.ch.Close()
	}
	err := ErrRequestLost
	if reason, ok := <-closes; ok && reason != nil {
		err = fmt.Errorf("%w: %v", ErrRequestLost, reason)
	}
	s.mu.Lock()
	s.err = err
	s.pending = map[string]*pendingRequest{}
	s.mu.Unlock()
	close(s.dead)
}

func (s *replySession) deliver(d *amqp.Delivery) {
	s.mu.Lock()
	c, ok := s.pending[d.CorrelationId]
	if ok {
		delete(s.pending, d.CorrelationId)
	}
	s.mu.Unlock()
	if !ok {
		s.dropped()
		return
	}
	c.reply <- *d
}
