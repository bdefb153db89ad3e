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

// Consumer serves one queue through a warren.Router with a pool of
// workers, and settles every delivery by the handler's result (see
// warren.OutcomeOf): acks coalesced, nacks at once, dead-letters and
// delayed retries republished and confirmed before the ack. It survives
// lost connections and channels by itself.
type Consumer struct {
	client   *Client
	router   *warren.Router
	spec     Spec
	cfg      *consumerConfig
	topology warren.Topology
	tag      string
	requeues *requeueCounter

	prefetch        atomic.Int64
	prefetchChanged chan struct{}
	mu              sync.Mutex
	running         bool
	stop            chan struct{} // closed to start a graceful shutdown
	stopOnce        sync.Once
	deadline        chan time.Time // the shutdown deadline chosen by Shutdown
	finished        chan struct{}  // closed when Run returns
	runErr          error

	pool *pool
}

// NewConsumer returns a consumer of spec's queue that dispatches to
// router. It declares the topology (exchange, queue, one binding per route
// pattern, the dead-letter queue and the retry wait queues) before it
// returns, so messages published afterwards reach the queue, and again
// each time the consumer (re)starts. A declaration the broker refuses is
// returned as a *TopologyError.
func (c *Client) NewConsumer(router *warren.Router, spec Spec, opts ...ConsumerOption) (*Consumer, error) {
	return c.NewConsumerContext(context.Background(), router, spec, opts...)
}

// NewConsumerContext is NewConsumer with a context bounding the
// declaration (it waits for a lost connection to recover).
func (c *Client) NewConsumerContext(ctx context.Context, router *warren.Router, spec Spec, opts ...ConsumerOption) (*Consumer, error) {
	cfg := defaultConsumerConfig()
	for _, o := range opts {
		o.applyConsumer(cfg)
	}
	if cfg.ackBatch <= 0 {
		cfg.ackBatch = max(1, cfg.prefetch/4)
		if cfg.prefetch == 0 { // unlimited prefetch: batch as a large window would
			cfg.ackBatch = 256
		}
	}
	t, err := warren.ConsumerTopology(spec.Exchange, spec.Queue, router.Routes(), cfg.retry.WaitDelays())
	if err != nil {
		return nil, err
	}
	cons := &Consumer{
		client:   c,
		router:   router,
		spec:     spec,
		cfg:      cfg,
		topology: t,
		tag:      fmt.Sprintf("%s.%s.%s", c.cfg.name, spec.Queue.Name, newMessageID()),
		requeues: newRequeueCounter(4096),
		stop:     make(chan struct{}),
		deadline: make(chan time.Time, 1),

		prefetchChanged: make(chan struct{}, 1),
		finished:        make(chan struct{}),
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
// for a moment up to old + new prefetch messages can be in flight.
func (c *Consumer) SetPrefetch(n int) error {
	if n < 0 {
		return fmt.Errorf("warren/rabbitmq: prefetch %d is negative", n)
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
// handlers finish (up to ShutdownTimeout after ctx is cancelled, or
// Shutdown's context), flushes acks, and closes the channel, which returns
// the prefetched messages no handler started to the queue. Lost
// connections and channels are recovered without returning.
//
// Run returns nil after a graceful shutdown, and an error when the consumer
// cannot go on: a topology the broker refuses, the client closed, recovery
// given up.
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

	c.pool = newPool(c)
	err := c.consumeLoop()
	c.runErr = err
	return err
}

// Shutdown stops a running consumer gracefully (see Run) and waits until
// Run has returned. In-flight handlers get until ctx's deadline (or
// ShutdownTimeout when ctx has none); then their contexts are cancelled,
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

func (c *Consumer) stopping() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// consumeLoop opens a channel, declares, consumes, and dispatches, again
// and again across channel and connection losses, until shutdown.
func (c *Consumer) consumeLoop() error {
	bo := c.client.cfg.newBackoff()
	restarts := c.client.cfg.newRestartBackoff()
	for {
		sess, deliveries, err := c.start()
		if err != nil {
			if c.stopping() || errors.Is(err, errStopping) {
				return c.pool.close(nil, c.takeDeadline())
			}
			var te *TopologyError
			if errors.As(err, &te) || errors.Is(err, ErrClosed) {
				_ = c.pool.close(nil, time.Now())
				return err
			}
			wait := bo.NextBackOff()
			if wait == backoff.Stop {
				_ = c.pool.close(nil, time.Now())
				return fmt.Errorf("warren/rabbitmq: consumer %s: giving up: %w", c.spec.Queue.Name, err)
			}
			select {
			case <-time.After(wait):
				continue
			case <-c.stop:
				return c.pool.close(nil, c.takeDeadline())
			}
		}
		started := time.Now()
		if c.dispatch(sess, deliveries) {
			return c.pool.close(sess, c.takeDeadline())
		}
		// The channel is gone: its tags are dead. Handlers still running
		// finish; their settlements are dropped and the broker redelivers.
		sess.kill()
		_ = sess.ch.Close() // after a consumer cancel the channel is still open
		if time.Since(started) >= healthySession {
			bo.Reset()
			restarts.Reset()
			continue
		}
		// It died soon after it started, again and again perhaps: a message
		// whose headers the client library cannot read fails the whole
		// connection each time it is delivered. Wait longer before each try
		// so that it cannot become a hot loop (docs/RELIABILITY.md).
		wait := restarts.NextBackOff()
		if wait == backoff.Stop {
			wait = c.client.cfg.maxInterval
		}
		select {
		case <-time.After(wait):
		case <-c.stop:
			return c.pool.close(nil, c.takeDeadline())
		}
	}
}

// healthySession is how long a consuming channel must have lived for its
// loss to count as a fresh failure rather than a repeat.
const healthySession = 5 * time.Second

var errStopping = errors.New("stopping")

func (c *Consumer) takeDeadline() time.Time {
	select {
	case d := <-c.deadline:
		return d
	default:
		return time.Now()
	}
}

// start opens a channel, declares the topology, sets the prefetch and
// starts consuming.
func (c *Consumer) start() (*session, <-chan amqp.Delivery, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	ch, _, err := c.client.consume.channel(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, errStopping
		}
		return nil, nil, err
	}
	if !c.cfg.skipDeclare {
		if err := declare(ch, c.topology); err != nil {
			_ = ch.Close()
			return nil, nil, err
		}
	}
	if err := ch.Qos(int(c.prefetch.Load()), 0, false); err != nil {
		_ = ch.Close()
		return nil, nil, fmt.Errorf("warren/rabbitmq: set prefetch: %w", err)
	}
	deliveries, err := ch.ConsumeWithContext(context.Background(), c.spec.Queue.Name, c.tag, false, false, false, false, nil)
	if err != nil {
		_ = ch.Close()
		return nil, nil, fmt.Errorf("warren/rabbitmq: consume %q: %w", c.spec.Queue.Name, err)
	}
	return newSession(ch, c.cfg.ackBatch), deliveries, nil
}

// dispatch hands deliveries to the pool until the channel closes (false)
// or a shutdown begins (true). A prefetch change resubscribes on the same
// channel: the old subscription's deliveries are dispatched until the
// library closes it, then the new one's.
func (c *Consumer) dispatch(s *session, deliveries <-chan amqp.Delivery) (stopping bool) {
	resubscribe := false
	for {
		select {
		case d, ok := <-deliveries:
			if ok {
				if !c.pool.submit(s, &d) {
					return true
				}
				continue
			}
			if !resubscribe || s.ch.IsClosed() {
				return c.stopping()
			}
			resubscribe = false
			next, err := s.ch.ConsumeWithContext(context.Background(), c.spec.Queue.Name, c.tag, false, false, false, false, nil)
			if err != nil {
				return c.stopping() // the channel is gone: start again
			}
			deliveries = next
		case <-c.prefetchChanged:
			if resubscribe {
				continue
			}
			if err := s.ch.Qos(int(c.prefetch.Load()), 0, false); err != nil {
				return c.stopping()
			}
			if err := s.ch.Cancel(c.tag, false); err != nil {
				return c.stopping()
			}
			resubscribe = true
		case <-c.stop:
			return true
		}
	}
}
