package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
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
// One goroutine (listen) reads the channel's replies, returns and confirms.
// Returns and confirms come in the order the broker sent them (a
// basic.return always before the basic.ack of the same message), so a
// returned request is marked before its confirm completes it.
type replySession struct {
	ch      *amqp.Channel
	replyTo string
	dropped func()

	pubMu sync.Mutex // serialises publishes, so each knows its sequence number

	mu      sync.Mutex       // guards the maps and err; never held while blocking
	pending map[string]*call // by correlation id, until the reply or the caller gives up
	seqs    map[uint64]*call // by publish sequence number, until the confirm
	err     error            // why the channel closed
	dead    chan struct{}    // closed when the channel is gone
}

// call is one request waiting for its confirm and its reply.
type call struct {
	corr      string
	returned  bool               // the broker returned it (unroutable); guarded by mu
	confirmed chan error         // nil, ErrUnroutable or ErrNacked; buffered
	reply     chan amqp.Delivery // buffered
}

func newReplySession(ch *amqp.Channel, replyTo string, dropped func()) *replySession {
	return &replySession{
		ch:      ch,
		replyTo: replyTo,
		dropped: dropped,
		pending: make(map[string]*call),
		seqs:    make(map[uint64]*call),
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

// lost returns the error of a call whose channel closed under it.
func (s *replySession) lost() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// publish sends p as a request with correlation id p.CorrelationId and
// returns its call. errNotSent means the channel was closed before the
// message left.
func (s *replySession) publish(ctx context.Context, p *warren.Publishing) (*call, error) {
	c := &call{corr: p.CorrelationId, confirmed: make(chan error, 1), reply: make(chan amqp.Delivery, 1)}
	p.ReplyTo = s.replyTo
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if s.gone() || s.ch.IsClosed() {
		return nil, errNotSent
	}
	seq := s.ch.GetNextPublishSeqNo()
	s.mu.Lock()
	s.pending[c.corr] = c
	s.seqs[seq] = c
	s.mu.Unlock()
	err := s.ch.PublishWithContext(ctx, p.Exchange, p.RoutingKey, p.Mandatory, false, p.Publishing)
	if err == nil {
		return c, nil
	}
	s.mu.Lock()
	delete(s.pending, c.corr)
	delete(s.seqs, seq)
	s.mu.Unlock()
	if errors.Is(err, amqp.ErrClosed) && ctx.Err() == nil {
		return nil, errNotSent
	}
	return nil, fmt.Errorf("warren/rabbitmq: publish request to %q with key %q: %w", p.Exchange, p.RoutingKey, err)
}

// waitConfirm waits for the broker's confirm of c.
func (s *replySession) waitConfirm(ctx context.Context, c *call) error {
	select {
	case err := <-c.confirmed:
		return err
	case <-s.dead:
		select {
		case err := <-c.confirmed:
			return err
		default:
			return s.lost()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forget stops waiting for c's reply: one that comes later is dropped and
// counted.
func (s *replySession) forget(c *call) {
	s.mu.Lock()
	delete(s.pending, c.corr)
	s.mu.Unlock()
}

// listen dispatches replies, returns and confirms until the channel closes,
// then marks the session dead. wg tracks the goroutine it may start.
func (s *replySession) listen(wg *sync.WaitGroup, deliveries <-chan amqp.Delivery, confirms <-chan amqp.Confirmation,
	returns <-chan amqp.Return, closes <-chan *amqp.Error) {
	for deliveries != nil || confirms != nil || returns != nil {
		select {
		case d, ok := <-deliveries:
			if !ok {
				deliveries = nil
				if !s.ch.IsClosed() {
					// The broker cancelled our consumer (its reply queue was
					// deleted): without replies the channel is useless.
					wg.Add(1)
					go func() { defer wg.Done(); _ = s.ch.Close() }()
				}
				continue
			}
			s.deliver(&d)
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			s.markReturned(r.CorrelationId)
		case cf, ok := <-confirms:
			if !ok {
				confirms = nil
				continue
			}
			s.confirm(cf)
		}
	}
	err := ErrRequestLost
	select {
	case reason, ok := <-closes:
		if ok && reason != nil {
			err = fmt.Errorf("%w: %v", ErrRequestLost, reason)
		}
	default:
	}
	s.mu.Lock()
	s.err = err
	s.pending = map[string]*call{}
	s.seqs = map[uint64]*call{}
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

func (s *replySession) markReturned(corr string) {
	s.mu.Lock()
	if c, ok := s.pending[corr]; ok {
		c.returned = true
	}
	s.mu.Unlock()
}

func (s *replySession) confirm(cf amqp.Confirmation) {
	s.mu.Lock()
	c, ok := s.seqs[cf.DeliveryTag]
	delete(s.seqs, cf.DeliveryTag)
	returned := ok && c.returned
	s.mu.Unlock()
	switch {
	case !ok:
	case !cf.Ack:
		c.confirmed <- ErrNacked
	case returned:
		c.confirmed <- warren.ErrUnroutable
	default:
		c.confirmed <- nil
	}
}
