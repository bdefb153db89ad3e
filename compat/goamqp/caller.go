package goamqp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// ErrCallerClosed is returned by calls on a closed Caller.
var ErrCallerClosed = errors.New("warren/goamqp: caller closed")

// ErrAnswerLost is returned by a call whose response channel closed before
// its answer arrived; the call may or may not have been served.
var ErrAnswerLost = errors.New("warren/goamqp: response channel closed before the answer arrived")

// DefaultCallTimeout bounds a call whose context has no deadline.
const DefaultCallTimeout = 30 * time.Second

// Caller calls one goamqp service (the target) the goamqp way, for a warren
// client: a request is JSON published to <target>.direct.exchange.request
// with the route as routing key and the header service=<client's name>;
// answers come from the caller's own response queue
// <target>.headers.exchange.response.queue.<name>, bound to the target's
// response exchange with {service: <name>}, as goamqp's
// ServiceResponseConsumer binds it.
//
// Matching. goamqp answers carry no correlation id and no reply-to, only
// the request's routing key. So a Caller keeps at most one call in flight
// per route: calls on one route are serialised, calls on different routes
// run side by side, and an answer is matched to the call waiting on its
// routing key. Requests also carry a correlation id; an answer that
// echoes one (Respond does) is matched exactly, and one that names another
// call is dropped. The limits of the protocol remain:
//
//   - an answer that arrives after its call timed out is dropped if no
//     call on that route is waiting, but is taken by the next call on the
//     route if one is (goamqp answers cannot tell calls apart);
//   - replicas of the calling service share the response queue (goamqp's
//     competing consumers), so an answer may reach a replica that did not
//     make the call, which drops it, and the call times out. Call a goamqp
//     service from one replica at a time, or move the target to warren and
//     use rabbitmq.Requester.
//
// Requests are mandatory: when no queue is bound for the route (the target
// never ran, or its queue expired) the call fails at once with
// warren.ErrUnroutable instead of waiting out its timeout.
//
// A Caller consumes on a channel of the client's consuming connection and
// opens a new one when that channel is lost; calls in flight then end with
// ErrAnswerLost.
type Caller struct {
	client  *rabbitmq.Client
	target  string
	name    string
	queue   string
	timeout time.Duration

	routesMu sync.Mutex
	routes   map[string]*routeSlot

	stop   context.CancelFunc
	done   chan struct{}
	closed chan struct{}
	once   sync.Once
}

// routeSlot is one route's single call in flight.
type routeSlot struct {
	turn  chan struct{} // one token: who holds it may call
	mu    sync.Mutex
	bound bool
	wait  *waiter // the call waiting for an answer, or nil
}

type waiter struct {
	id     string
	answer chan amqp.Delivery // buffered 1
	lost   chan struct{}
}

// CallerOption configures NewCaller.
type CallerOption interface{ applyCaller(*Caller) }

type callerOptionFunc func(*Caller)

func (f callerOptionFunc) applyCaller(c *Caller) { f(c) }

// WithCallTimeout bounds each call whose context has no earlier deadline
// (DefaultCallTimeout by default).
func WithCallTimeout(d time.Duration) CallerOption {
	return callerOptionFunc(func(c *Caller) { c.timeout = d })
}

// NewCaller declares what calling target the goamqp way needs (the request
// exchange, the target's response exchange, the caller's response queue
// with goamqp's arguments) and starts consuming answers. The client must
// have a name (rabbitmq.WithName): it is the service header and part of
// the queue's name. Close the Caller when done.
func NewCaller(ctx context.Context, client *rabbitmq.Client, target string, opts ...CallerOption) (*Caller, error) {
	name := client.Name()
	if name == "" || target == "" {
		return nil, errors.New("warren/goamqp: NewCaller needs a named client (rabbitmq.WithName) and a target")
	}
	c := &Caller{
		client:  client,
		target:  target,
		name:    name,
		queue:   ResponseQueue(target, name),
		timeout: DefaultCallTimeout,
		routes:  map[string]*routeSlot{},
		done:    make(chan struct{}),
		closed:  make(chan struct{}),
	}
	for _, o := range opts {
		o.applyCaller(c)
	}
	if err := client.Declare(ctx, CallerTopology(target, name)); err != nil {
		return nil, err
	}
	ch, deliveries, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.run(runCtx, ch, deliveries)
	return c, nil
}

// CallerTopology is what a Caller from caller to target declares: target's
// request exchange (direct) and response exchange (headers), both durable,
// and caller's response queue, durable with x-expires QueueExpires, as
// goamqp declares them. The bindings are made per route, on first use.
func CallerTopology(target, caller string) warren.Topology {
	return warren.Topology{
		Exchanges: []warren.Exchange{
			{Name: warren.RequestExchange(target), Kind: warren.KindDirect, Durable: true},
			{Name: ResponseExchange(target), Kind: warren.KindHeaders, Durable: true},
		},
		Queues: []warren.Queue{{
			Name: ResponseQueue(target, caller), Durable: true,
			Args: amqp.Table{"x-expires": QueueExpires},
		}},
	}
}

func (c *Caller) open(ctx context.Context) (*amqp.Channel, <-chan amqp.Delivery, error) {
	ch, err := c.client.Channel(ctx)
	if err != nil {
		return nil, nil, err
	}
	deliveries, err := ch.Consume(c.queue, "", false, false, false, false, nil)
	if err != nil {
		_ = ch.Close()
		return nil, nil, fmt.Errorf("warren/goamqp: consume %s: %w", c.queue, err)
	}
	return ch, deliveries, nil
}

// run hands answers to their calls, and reopens the channel when it is lost.
func (c *Caller) run(ctx context.Context, ch *amqp.Channel, deliveries <-chan amqp.Delivery) {
	defer close(c.done)
	for {
		c.serve(ctx, deliveries)
		_ = ch.Close()
		c.loseAll()
		if ctx.Err() != nil {
			return
		}
		for {
			var err error
			ch, deliveries, err = c.open(ctx)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

func (c *Caller) serve(ctx context.Context, deliveries <-chan amqp.Delivery) {
	for {
		select {
		case <-ctx.Done():
			return
		case d, ok := <-deliveries:
			if !ok {
				return
			}
			c.deliver(d)
			_ = d.Ack(false)
		}
	}
}

// deliver gives d to the call waiting on its route, if d can be its answer.
func (c *Caller) deliver(d amqp.Delivery) {
	c.routesMu.Lock()
	slot := c.routes[d.RoutingKey]
	c.routesMu.Unlock()
	if slot == nil {
		return
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	w := slot.wait
	if w == nil || (d.CorrelationId != "" && d.CorrelationId != w.id) {
		return // nobody waits, or the answer names another call
	}
	slot.wait = nil
	w.answer <- d
}

func (c *Caller) loseAll() {
	c.routesMu.Lock()
	defer c.routesMu.Unlock()
	for _, slot := range c.routes {
		slot.mu.Lock()
		if slot.wait != nil {
			close(slot.wait.lost)
			slot.wait = nil
		}
		slot.mu.Unlock()
	}
}

func (c *Caller) slot(route string) *routeSlot {
	c.routesMu.Lock()
	defer c.routesMu.Unlock()
	s := c.routes[route]
	if s == nil {
		s = &routeSlot{turn: make(chan struct{}, 1)}
		s.turn <- struct{}{}
		c.routes[route] = s
	}
	return s
}

// Call sends req (encoded as JSON) to the target's route and decodes the
// answer's JSON body into resp (a pointer; nil ignores the body). It waits
// for its turn on the route, then for the answer, up to ctx and the call
// timeout.
func (c *Caller) Call(ctx context.Context, route string, req, resp any) error {
	d, err := c.Request(ctx, route, req)
	if err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(d.Body, resp); err != nil {
		return &warren.DecodeError{ContentType: d.ContentType, Err: err}
	}
	return nil
}

// Request is Call returning the answer's delivery as it came.
func (c *Caller) Request(ctx context.Context, route string, req any) (amqp.Delivery, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return amqp.Delivery{}, fmt.Errorf("warren/goamqp: encode the request: %w", err)
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	slot := c.slot(route)
	select {
	case <-slot.turn:
	case <-ctx.Done():
		return amqp.Delivery{}, ctx.Err()
	case <-c.closed:
		return amqp.Delivery{}, ErrCallerClosed
	}
	defer func() { slot.turn <- struct{}{} }()

	if err := c.bind(ctx, slot, route); err != nil {
		return amqp.Delivery{}, err
	}
	w := &waiter{id: warren.NewMessageID(), answer: make(chan amqp.Delivery, 1), lost: make(chan struct{})}
	slot.mu.Lock()
	slot.wait = w
	slot.mu.Unlock()
	defer func() {
		slot.mu.Lock()
		if slot.wait == w {
			slot.wait = nil
		}
		slot.mu.Unlock()
	}()

	err = c.client.Publisher().Publish(ctx, &warren.Publishing{
		Exchange:   warren.RequestExchange(c.target),
		RoutingKey: route,
		Mandatory:  true, // no request queue bound for route: ErrUnroutable at once, not a timeout
		Publishing: amqp.Publishing{
			ContentType:   "application/json",
			DeliveryMode:  amqp.Persistent,
			CorrelationId: w.id,
			Headers:       amqp.Table{HeaderService: c.name},
			Body:          body,
		},
	})
	if err != nil {
		return amqp.Delivery{}, err
	}
	select {
	case d := <-w.answer:
		return d, nil
	case <-w.lost:
		return amqp.Delivery{}, ErrAnswerLost
	case <-ctx.Done():
		return amqp.Delivery{}, ctx.Err()
	case <-c.closed:
		return amqp.Delivery{}, ErrCallerClosed
	}
}

// bind binds the response queue for route once, as goamqp binds it: the
// route as key, {service: <name>} as arguments (x-match all by default).
func (c *Caller) bind(ctx context.Context, slot *routeSlot, route string) error {
	if slot.bound {
		return nil
	}
	err := c.client.Declare(ctx, warren.Topology{Bindings: []warren.Binding{{
		Exchange: ResponseExchange(c.target), Queue: c.queue, Key: route,
		Args: amqp.Table{HeaderService: c.name},
	}}})
	if err != nil {
		return err
	}
	slot.bound = true
	return nil
}

// Queue returns the caller's response queue.
func (c *Caller) Queue() string { return c.queue }

// Close stops consuming answers; calls in flight end with ErrCallerClosed.
// The response queue stays (goamqp's x-expires removes it after 5 idle
// days). It is safe to call more than once.
func (c *Caller) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.stop()
	})
	<-c.done
	return nil
}
