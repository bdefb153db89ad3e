package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// ErrRequestLost is returned for a request in flight when the requester's
// channel, or its connection, closed: the reply can no longer reach the
// caller. The service may or may not have handled the request. The next
// request opens a new channel (waiting for the connection to recover up to
// its context).
var ErrRequestLost = errors.New("warren/rabbitmq: requester channel closed before the reply arrived")

// ErrRequesterClosed is returned by requests on a closed Requester.
var ErrRequesterClosed = errors.New("warren/rabbitmq: requester closed")

// Requester sends commands and queries to services and waits for their
// replies. It is safe for concurrent use: many requests share its one
// channel, each correlated with its reply by a unique correlation id.
//
// Requests go to the service's request exchange
// (warren.RequestExchange(service), the exchange rabbitmq.Requests(service)
// consumers bind to) with the route as routing key, mandatory and with
// publisher confirms, on the client's publishing connection. Replies come
// back by direct reply-to (amq.rabbitmq.reply-to) by default: the requester
// consumes the pseudo-queue in no-ack mode on the channel it publishes on,
// as RabbitMQ requires. A reply that comes after its caller gave up, or that
// nobody asked for, is dropped and counted (Dropped); it never reaches
// another caller.
type Requester struct {
	client      *Client
	cfg         *requesterConfig
	conn        *connection                             // the client's publishing connection
	observer    warren.Observer                         // the client's observer
	wrapPublish func(warren.Publisher) warren.Publisher // the client's publish middleware
	known       sync.Map                                // request exchanges known to exist

	opening chan struct{} // one slot: who holds it opens the channel
	mu      sync.Mutex
	sess    *replySession
	closed  bool
	wg      sync.WaitGroup // listeners

	dropped atomic.Uint64
}

// NewRequester returns a requester on the client's publishing connection.
// It opens its channel on the first request, and again after a lost one.
// Close it when done (closing the client also ends it).
func (c *Client) NewRequester(opts ...RequesterOption) *Requester {
	cfg := defaultRequesterConfig()
	for _, o := range opts {
		o.applyRequester(cfg)
	}
	return &Requester{
		client: c, cfg: cfg, conn: c.publish, observer: c.cfg.observer, wrapPublish: c.cfg.wrapPublish,
		opening: make(chan struct{}, 1),
	}
}

// Request sends p to service's request exchange with route as routing key
// and waits for the reply, up to ctx (or WithCallTimeout when ctx has no
// deadline). It sets p's CorrelationId and ReplyTo; a zero DeliveryMode
// becomes transient (a request is worth no more than the caller waiting for
// it), a zero Type the route.
//
// The reply is returned as delivered (it needs no ack). A failure is an
// error: a *RemoteError when the service answered with an error reply; one
// wrapping warren.ErrUnroutable, at once, when the service has no request
// exchange or no queue bound for route (it is not deployed, or not
// running); ErrRequestLost when the channel closed first; ctx's error
// (errors.Is(err, context.DeadlineExceeded)) when the reply did not come in
// time; the client's Err (ErrGaveUp, ErrClosed) once the client is done.
func (r *Requester) Request(ctx context.Context, service, route string, p amqp.Publishing) (amqp.Delivery, error) {
	if service == "" {
		return amqp.Delivery{}, errors.New("warren/rabbitmq: request: no service named")
	}
	if _, ok := ctx.Deadline(); !ok && r.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.timeout)
		defer cancel()
	}
	d, err := r.request(ctx, service, route, p)
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) {
			return d, err
		}
		return d, fmt.Errorf("warren/rabbitmq: request %s to %s: %w", route, service, err)
	}
	return d, nil
}

func (r *Requester) request(ctx context.Context, service, route string, p amqp.Publishing) (amqp.Delivery, error) {
	if err := checkKey(route); err != nil {
		return amqp.Delivery{}, err
	}
	exchange := warren.RequestExchange(service)
	if err := r.checkService(ctx, exchange); err != nil {
		return amqp.Delivery{}, err
	}
	p.CorrelationId = warren.NewMessageID()
	if p.DeliveryMode == 0 {
		p.DeliveryMode = amqp.Transient
	}
	if p.Type == "" {
		p.Type = route
	}
	fillDefaults(&p)
	p.Headers = withCaller(p.Headers, r.client.Name())

	var s *replySession
	var c *pendingRequest
	send := warren.Publisher(warren.PublisherFunc(func(ctx context.Context, msg *warren.Publishing) error {
		start := time.Now()
		var err error
		s, c, err = r.send(ctx, msg)
		if err == nil {
			err = s.waitConfirm(ctx, c)
		}
		r.observer.ObservePublish(warren.PublishEvent{
			Exchange: msg.Exchange, RoutingKey: msg.RoutingKey, Duration: time.Since(start), Err: err,
		})
		return err
	}))
	send = r.wrapPublish(send)
	err := send.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: route, Mandatory: true, Publishing: p})
	if c != nil {
		defer s.forget(c)
	}
	switch {
	case err == nil && c == nil:
		return amqp.Delivery{}, errors.New("a publish middleware returned without publishing the request")
	case errors.Is(err, warren.ErrUnroutable):
		return amqp.Delivery{}, fmt.Errorf("no queue takes route %q on %s (is the service running?): %w", route, exchange, err)
	case err != nil:
		return amqp.Delivery{}, r.closedOr(err)
	}

	select {
	case d := <-c.reply:
		return reply(service, route, d)
	case <-s.dead:
		select {
		case d := <-c.reply:
			return reply(service, route, d)
		default:
			return amqp.Delivery{}, r.closedOr(s.lost())
		}
	case <-ctx.Done():
		return amqp.Delivery{}, fmt.Errorf("waiting for the reply: %w", ctx.Err())
	}
}

func reply(service, route string, d amqp.Delivery) (amqp.Delivery, error) {
	if re := remoteError(service, route, &d); re != nil {
		return d, re
	}
	return d, nil
}

// send publishes msg on the current session, opening a new one when the
// channel closed before the message left.
func (r *Requester) send(ctx context.Context, msg *warren.Publishing) (*replySession, *pendingRequest, error) {
	for {
		s, err := r.session(ctx)
		if err != nil {
			return nil, nil, err
		}
		if err := r.conn.waitUnblocked(ctx); err != nil {
			return nil, nil, err
		}
		c, err := s.publish(ctx, msg)
		if !errors.Is(err, errNotSent) {
			return s, c, err
		}
		select { // the channel is closing: wait for its listener to say so
		case <-s.dead:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// closedOr returns ErrRequesterClosed once the requester is closed, else
// err.
func (r *Requester) closedOr(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("%w (%w)", ErrRequesterClosed, err)
	}
	return err
}

// Dropped returns how many replies were dropped because no caller waited
// for them: they came after their caller's context ended, or carried a
// correlation id this requester never sent.
func (r *Requester) Dropped() uint64 { return r.dropped.Load() }

// Close closes the requester's channel; requests in flight fail with
// ErrRequesterClosed, and later ones too. It is safe to call more than
// once.
func (r *Requester) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	s := r.sess
	r.mu.Unlock()
	var err error
	if s != nil {
		if err = s.ch.Close(); errors.Is(err, amqp.ErrClosed) {
			err = nil
		}
	}
	r.wg.Wait()
	return err
}

// HeaderCaller is the header every request carries: the calling service's
// name (WithName). goamqp's services address their answer by it, and a
// goamqp service's reply wrapper fails (and requeues the request, for
// ever) on a request without it; warren's services ignore it.
const HeaderCaller = "service"

// withCaller returns h with HeaderCaller set to name, unless the caller set
// it; h itself is not changed.
func withCaller(h amqp.Table, name string) amqp.Table {
	if name == "" || h[HeaderCaller] != nil {
		return h
	}
	out := make(amqp.Table, len(h)+1)
	for k, v := range h {
		out[k] = v
	}
	out[HeaderCaller] = name
	return out
}
