package rabbitmq

import (
	"fmt"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/retry"
)

// Spec names what a consumer consumes: the exchange its routes bind to and
// its work queue. EventStream, Stream and Requests build the conventional
// ones; the fields can be changed (a quorum queue, extra arguments).
type Spec struct {
	Exchange warren.Exchange // Name "" consumes Queue without binding it
	Queue    warren.Queue
}

// EventStream is the event-stream convention for service: the durable topic
// exchange events.topic.exchange and the durable queue
// events.topic.exchange.queue.<service>.
func EventStream(service string) Spec { return TopicSpec("events", service) }

// TopicSpec is EventStream for a custom stream: <name>.topic.exchange and
// <name>.topic.exchange.queue.<service>.
func TopicSpec(name, service string) Spec {
	ex := warren.StreamExchange(name)
	return Spec{
		Exchange: warren.Exchange{Name: ex, Kind: warren.KindTopic, Durable: true},
		Queue:    warren.Queue{Name: warren.ServiceQueue(ex, service), Durable: true},
	}
}

// Requests is the request convention for service: the durable direct
// exchange <service>.direct.exchange.request and its queue
// <service>.direct.exchange.request.queue, bound with one key per route.
func Requests(service string) Spec {
	return Spec{
		Exchange: warren.Exchange{Name: warren.RequestExchange(service), Kind: warren.KindDirect, Durable: true},
		Queue:    warren.Queue{Name: warren.RequestQueue(service), Durable: true},
	}
}

// ConsumerOption configures a Consumer.
type ConsumerOption interface{ applyConsumer(*consumerConfig) }

type consumerOptionFunc func(*consumerConfig)

func (f consumerOptionFunc) applyConsumer(c *consumerConfig) { f(c) }

type consumerConfig struct {
	workers              int
	prefetch             int
	prefetchSet          bool // WithPrefetch was given
	ackBatch             int
	orderBy              func(*warren.Message) string
	retry                retry.Policy
	requeueLimit         int
	shutdownTimeout      time.Duration
	abortGrace           time.Duration
	skipDeclare          bool
	adopt                bool // WithAdoptQueue
	noDeadLetterExchange bool // WithoutDeadLetterExchange
	releaseOnShutdown    bool // WithReleaseOnShutdown
	settleTimeout        time.Duration
	missingQueueAttempts int
	quorum               quorumConfig // WithQueueType, WithDeliveryLimit, WithLeaderLocator
}

// Defaults, chosen from the measurements in docs/ARCHITECTURE.md ("Defaults").
const (
	DefaultWorkers  = 32
	DefaultPrefetch = 128
	// DefaultPrefetchPerWorker is the prefetch a consumer without
	// WithPrefetch keeps per worker once that is more than DefaultPrefetch
	// (above 32 workers): the window holds the messages in handlers and
	// enough besides to cover the broker's round trip from an ack to the
	// next deliveries, so the workers do not wait for it.
	DefaultPrefetchPerWorker = 4
	// MaxPrefetch is the largest prefetch basic.qos carries (a 16-bit
	// field). NewConsumer and SetPrefetch refuse a larger one: amqp091-go
	// would send it cut to 16 bits (65,536 as 0, unlimited).
	MaxPrefetch            = 65535
	DefaultRequeueLimit    = 5
	DefaultShutdownTimeout = 30 * time.Second
	DefaultSettleTimeout   = 30 * time.Second
	// DefaultMissingQueueAttempts is how often a consumer tries to consume
	// a queue that does not exist (or that it may not read) before Run
	// returns an error.
	DefaultMissingQueueAttempts = 5
)

func defaultConsumerConfig() *consumerConfig {
	return &consumerConfig{
		workers:              DefaultWorkers,
		prefetch:             DefaultPrefetch,
		requeueLimit:         DefaultRequeueLimit,
		shutdownTimeout:      DefaultShutdownTimeout,
		abortGrace:           5 * time.Second,
		settleTimeout:        DefaultSettleTimeout,
		missingQueueAttempts: DefaultMissingQueueAttempts,
		quorum:               quorumConfig{deliveryLimit: -1},
	}
}

// WithWorkers sets how many handlers run at once (default DefaultWorkers).
// Without WithPrefetch, more than 32 workers raise the prefetch to
// DefaultPrefetchPerWorker per worker.
func WithWorkers(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if n > 0 {
			c.workers = n
		}
	})
}

// WithPrefetch sets basic.qos: how many unacked messages the broker sends
// ahead, 0 (unlimited) to MaxPrefetch. Consumer.SetPrefetch changes it while running.
// The default is DefaultPrefetch, or DefaultPrefetchPerWorker times the
// workers when that is larger: a prefetch not well above the workers
// leaves them waiting for the broker after every batch of acks (with 64
// workers and handlers of 1 ms, prefetch 128 runs at about 0.85x the rate
// of prefetch 256; docs/ARCHITECTURE.md, Defaults).
func WithPrefetch(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if n >= 0 {
			c.prefetch = n
			c.prefetchSet = true
		}
	})
}

// defaultPrefetch is the prefetch of a consumer with workers workers and
// no WithPrefetch.
func defaultPrefetch(workers int) int {
	return min(MaxPrefetch, max(DefaultPrefetch, DefaultPrefetchPerWorker*workers))
}

// checkPrefetch refuses a prefetch basic.qos cannot carry.
func checkPrefetch(n int) error {
	if n < 0 || n > MaxPrefetch {
		return fmt.Errorf("warren/rabbitmq: prefetch %d is not in 0..%d (0: unlimited; basic.qos carries 16 bits)", n, MaxPrefetch)
	}
	return nil
}

// WithAckBatch sets how many acks are coalesced into one basic.ack
// (default: half the prefetch, at least 1; 256 with an unlimited
// prefetch). A batch larger than the prefetch is the prefetch: a window
// cannot fill more. Acks are also flushed 5 ms after the first one due,
// so a quiet queue never holds acks back. The default follows
// Consumer.SetPrefetch.
func WithAckBatch(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.ackBatch = n })
}

// ackBatchFor is the ack batch of a channel consuming with prefetch.
func (c *consumerConfig) ackBatchFor(prefetch int) int {
	switch {
	case c.ackBatch > 0 && prefetch > 0:
		return min(c.ackBatch, prefetch)
	case c.ackBatch > 0:
		return c.ackBatch
	case prefetch == 0: // unlimited: batch as a large window would
		return 256
	default:
		return max(1, prefetch/2)
	}
}

// WithOrderBy keeps messages with the same key in order: they are handled one
// after another, by the same worker, while messages with different keys run
// in parallel. A slow key delays the keys that share its worker.
func WithOrderBy(key func(*warren.Message) string) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.orderBy = key })
}

// WithRetry sets the delayed-retry policy: a message whose handler failed is
// republished to a wait queue and comes back after the policy's delay; when
// the policy has no delay left it is dead-lettered with reason "error".
// The wait queues are declared with the consumer's topology. Without a
// policy, a failed message is dead-lettered at once (retry in place with
// the retry.Backoff middleware).
func WithRetry(p retry.Policy) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.retry = p })
}

// WithRequeueLimit bounds how often a message may ask for warren.Requeue before
// it is dead-lettered with reason "requeue-limit" (default
// DefaultRequeueLimit).
func WithRequeueLimit(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if n > 0 {
			c.requeueLimit = n
		}
	})
}

// WithShutdownTimeout bounds how long a shutdown started by cancelling Run's
// context waits for in-flight handlers before cancelling their contexts
// (default DefaultShutdownTimeout). Shutdown(ctx) uses ctx instead.
func WithShutdownTimeout(d time.Duration) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.shutdownTimeout = d })
}

// WithSkipDeclare makes the consumer consume its queue without declaring any
// topology (the queue must exist). warren then knows of no dead-letter
// exchange on the queue, so it never nacks without requeue: see
// WithAdoptQueue, which adopts a queue as it is and still declares the
// bindings, the DLQ and the wait queues.
func WithSkipDeclare() ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.skipDeclare = true })
}

// WithSettleTimeout bounds how long a worker waits for the broker to confirm a
// retry or dead-letter copy (default DefaultSettleTimeout), flow control
// included. A copy not confirmed in time is not a failure of the message:
// it is requeued and settled again on its next delivery.
func WithSettleTimeout(d time.Duration) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if d > 0 {
			c.settleTimeout = d
		}
	})
}

// WithMissingQueueAttempts sets how often the consumer tries basic.consume on
// a queue the broker says does not exist or may not be read (NOT_FOUND,
// ACCESS_REFUSED: with WithSkipDeclare, or a queue deleted at run time) before
// Run returns an error (default DefaultMissingQueueAttempts). Each refusal
// is an Observer event at once (ConsumerQueueMissing).
func WithMissingQueueAttempts(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) {
		if n > 0 {
			c.missingQueueAttempts = n
		}
	})
}
