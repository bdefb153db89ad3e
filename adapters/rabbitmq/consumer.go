package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

var errNotRunning = errors.New("warren/rabbitmq: consumer is not running")

// Consumer serves one queue through a warren.Router with a set of
// workers, and settles every delivery by the handler's result (see
// warren.OutcomeOf): acks coalesced, nacks at once, dead-letters and
// delayed retries republished and confirmed before the ack. It survives
// lost connections and channels by itself.
type Consumer struct {
	client   *Client
	observer warren.Observer // the client's observer
	// newBackoff paces reopening a lost channel, newRestartBackoff the
	// restarts of one that keeps dying young (the client's WithReconnect).
	newBackoff, newRestartBackoff func() backoff.BackOff
	maxBackoff                    time.Duration // the longest wait of either
	spec                          Spec
	cfg                           *consumerConfig
	topology                      warren.Topology
	tag                           string
	proc                          *processor

	prefetch        atomic.Int64
	prefetchChanged chan struct{}
	mu              sync.Mutex
	running         bool
	stop            chan struct{} // closed to start a graceful shutdown
	stopOnce        sync.Once
	deadline        chan time.Time // the shutdown deadline chosen by Shutdown
	finished        chan struct{}  // closed when Run returns
	runErr          error
	status          consumerStatus

	workers *workers
}

// NewConsumer returns a consumer of spec's queue that dispatches to
// router. It declares the topology (exchange, queue, one binding per route
// pattern, the dead-letter queue and the retry wait queues) before it
// returns, so messages published afterwards reach the queue, and again
// each time the consumer (re)starts. A declaration the broker refuses is
// returned as a *TopologyError. ctx bounds the declaration (it waits for a
// lost connection to recover up to ctx).
func (c *Client) NewConsumer(ctx context.Context, router *warren.Router, spec Spec, opts ...ConsumerOption) (*Consumer, error) {
	cfg := defaultConsumerConfig()
	for _, o := range opts {
		o.applyConsumer(cfg)
	}
	if !cfg.prefetchSet {
		cfg.prefetch = defaultPrefetch(cfg.workers)
	}
	if err := checkPrefetch(cfg.prefetch); err != nil {
		return nil, err
	}
	if cfg.adopt {
		spec.Queue.Passive = true
	}
	cfg.applyQueueType(&spec)
	t, err := warren.ConsumerTopology(spec.Exchange, spec.Queue, router.Routes(), cfg.retry.WaitDelays())
	if err != nil {
		return nil, err
	}
	if cfg.noDeadLetterExchange {
		t = withoutDeadLetterArgs(t, spec.Queue.Name)
	}
	t = quorumTopology(t, spec.Queue.Name, cfg)
	cons := &Consumer{
		client:            c,
		observer:          c.cfg.observer,
		newBackoff:        c.cfg.newBackoff,
		newRestartBackoff: c.cfg.newRestartBackoff,
		maxBackoff:        c.cfg.maxInterval,
		spec:              spec,
		cfg:               cfg,
		topology:          t,
		tag:               consumerTag(c.cfg.name),
		stop:              make(chan struct{}),
		deadline:          make(chan time.Time, 1),
		proc: &processor{
			router:        router,
			observer:      c.cfg.observer,
			copies:        c.copies,
			policy:        cfg.retry,
			requeueLimit:  cfg.requeueLimit,
			requeues:      newRequeueCounter(4096, spec.Queue.Type == warren.Quorum),
			copied:        newCopyMemo(copyMemoSize),
			settleTimeout: cfg.settleTimeout,
			dlxKnown:      hasDeadLetterRoute(t, spec.Queue.Name, cfg.skipDeclare),
		},

		prefetchChanged: make(chan struct{}, 1),
		finished:        make(chan struct{}),
	}
	cons.proc.event = cons.observeConsumer
	cons.proc.frameSize = c.publish.frameSize
	if !cfg.skipDeclare {
		cons.proc.redeclare = func(ctx context.Context) error { return c.Declare(ctx, t) }
	}
	cons.prefetch.Store(int64(cfg.prefetch))
	if !cfg.skipDeclare {
		if err := c.Declare(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := c.register(cons); err != nil {
		return nil, err
	}
	return cons, nil
}

// Topology returns what the consumer declares.
func (c *Consumer) Topology() warren.Topology { return c.topology }

// Queue returns the name of the consumer's work queue.
func (c *Consumer) Queue() string { return c.spec.Queue.Name }

// SetPrefetch changes the prefetch of the running consumer and of every
// channel it opens later. RabbitMQ applies basic.qos to consumers started
// after it, so the consumer sets the new value and subscribes again on the
// same channel (basic.cancel, then basic.consume): messages already
// delivered stay with it and are settled as usual; nothing is requeued.
// Until they are settled they do not count against the new prefetch, so
// for a moment up to old + new prefetch messages can be in flight. n is 0
// (unlimited) to MaxPrefetch.
func (c *Consumer) SetPrefetch(n int) error {
	if err := checkPrefetch(n); err != nil {
		return err
	}
	c.prefetch.Store(int64(n))
	select {
	case c.prefetchChanged <- struct{}{}:
	default: // a change is already pending; it reads the latest value
	}
	return nil
}

// Run consumes until ctx is cancelled or Shutdown is called, then shuts
// down gracefully: it stops receiving (basic.cancel), lets in-flight
// handlers finish (up to WithShutdownTimeout after ctx is cancelled, or
// Shutdown's context), flushes acks, and closes the channel, which returns
// the prefetched messages no handler started to the queue. Lost
// connections and channels are recovered without returning.
//
// Run returns nil after a graceful shutdown, and an error when the consumer
// cannot go on: a topology the broker refuses, the client closed, recovery
// given up (the client's Err, matching ErrGaveUp, within a second of the
// give-up). State tells where it is meanwhile.
func (c *Consumer) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("warren/rabbitmq: Run called twice")
	}
	c.running = true
	c.mu.Unlock()
	defer close(c.finished)

	go func() {
		select {
		case <-ctx.Done():
			c.beginShutdown(time.Now().Add(c.cfg.shutdownTimeout))
		case <-c.stop:
		case <-c.finished:
		}
	}()

	base := warren.ContextWithPublisher(context.Background(), c.client.publisher)
	base = warren.ContextWithObserver(base, c.observer)
	c.workers = newWorkers(base, c.proc, c.cfg.workers, c.cfg.orderBy, c.stop)
	err := c.consumeLoop()
	c.runErr = err
	c.status.set(ConsumerStopped, err)
	return err
}

// Shutdown stops a running consumer gracefully (see Run) and waits until
// Run has returned. In-flight handlers get until ctx's deadline (or
// WithShutdownTimeout when ctx has none); then their contexts are cancelled,
// their messages requeued, and Shutdown waits a few seconds more for them
// to return.
func (c *Consumer) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	running := c.running
	c.mu.Unlock()
	if !running {
		return errNotRunning
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(c.cfg.shutdownTimeout)
	}
	c.beginShutdown(deadline)
	select {
	case <-c.finished:
		return c.runErr
	case <-time.After(time.Until(deadline) + c.cfg.abortGrace + time.Second):
		return fmt.Errorf("warren/rabbitmq: shutdown of %s: handlers did not return after their context was cancelled",
			c.spec.Queue.Name)
	}
}

func (c *Consumer) beginShutdown(deadline time.Time) {
	c.stopOnce.Do(func() {
		c.deadline <- deadline
		close(c.stop)
	})
}

func (c *Consumer) stopping() bool { return isClosed(c.stop) }

// finish shuts the consumer down: it stops receiving on cc (basic.cancel),
// waits for in-flight handlers until deadline (then cancels their context
// and waits a little more), flushes cc's acks and closes it, which returns
// prefetched messages no handler started to the queue.
func (c *Consumer) finish(cc *consumeChannel, deadline time.Time) error {
	if cc != nil && !c.cfg.releaseOnShutdown {
		cc.cancel()
	}
	err := c.workers.drain(deadline, c.cfg.abortGrace, c.spec.Queue.Name)
	if cc != nil {
		cc.finish()
	}
	c.workers.close(err == nil)
	return err
}

// healthyChannelAge is how long a consuming channel must have lived for its
// loss to count as a fresh failure rather than a repeat.
const healthyChannelAge = 5 * time.Second

var errStopping = errors.New("stopping")

func (c *Consumer) takeDeadline() time.Time {
	select {
	case d := <-c.deadline:
		return d
	default:
		return time.Now()
	}
}

// open opens the consuming channel: declare, prefetch, subscribe.
func (c *Consumer) open() (*consumeChannel, <-chan amqp.Delivery, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	prefetch := int(c.prefetch.Load())
	setup := consumeSetup{
		queue:     c.spec.Queue.Name,
		tag:       c.tag,
		prefetch:  prefetch,
		ackBatch:  c.cfg.ackBatchFor(prefetch),
		ackFailed: c.ackFailed,
	}
	if !c.cfg.skipDeclare {
		setup.topology = &c.topology
	}
	cc, deliveries, err := openConsumeChannel(ctx, c.client.consume, setup)
	if err != nil && ctx.Err() != nil {
		return nil, nil, errStopping
	}
	return cc, deliveries, err
}

// changePrefetch applies the prefetch SetPrefetch stored to cc, with the
// ack batch that goes with it.
func (c *Consumer) changePrefetch(cc *consumeChannel) error {
	prefetch := int(c.prefetch.Load())
	return cc.changePrefetch(prefetch, c.cfg.ackBatchFor(prefetch))
}

// ackFailed reports an ack or nack the channel refused.
func (c *Consumer) ackFailed(err error) {
	c.observeConsumer(ConsumerEvent{Queue: c.spec.Queue.Name, Kind: ConsumerAckFailed, Err: err})
}
