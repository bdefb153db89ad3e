package rabbitmq

import (
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// DefaultDeliveryLimit is the x-delivery-limit warren gives a quorum work
// queue it declares with a dead-letter exchange (WithDeliveryLimit): past
// it the broker dead-letters a message into the queue's DLQ (x-death
// reason delivery_limit). It is poison protection for what warren cannot
// count itself: a message whose delivery fails the consuming connection
// (unreadable headers, docs/RELIABILITY.md) or crashes the process comes
// back again and again; with the limit it ends in the DLQ after 20
// deliveries. warren's own requeue limit (WithRequeueLimit, counted by the
// broker's x-delivery-count) stays below it: the limit is raised to twice
// the requeue limit when that is larger.
const DefaultDeliveryLimit = 20

// LeaderLocator is where a quorum queue's leader is placed when it is
// declared (x-queue-leader-locator, RabbitMQ 3.10+).
type LeaderLocator string

// Leader locators.
const (
	// LeaderClientLocal places the leader on the node the declaring
	// connection is on (the broker's default).
	LeaderClientLocal LeaderLocator = "client-local"
	// LeaderBalanced places it on the node with the fewest leaders, so
	// that the queues of many services spread over the cluster.
	LeaderBalanced LeaderLocator = "balanced"
)

// quorumConfig is what a consumer's options say about quorum queues.
type quorumConfig struct {
	queueType     warren.QueueType // WithQueueType; "" keeps the Spec's
	deliveryLimit int              // WithDeliveryLimit; < 0: the default, 0: none
	leaderLocator LeaderLocator    // WithLeaderLocator; "" sets none
}

// WithQueueType sets the type of the consumer's work queue, and of its
// dead-letter and wait queues: warren.Classic or warren.Quorum (replicated
// over the cluster's nodes: survives the loss of a minority of them). It
// overrides Spec.Queue.Type. A quorum work queue is declared durable, with
// a delivery limit (WithDeliveryLimit) and at-least-once dead-lettering.
// The type of an existing queue cannot change: declaring it with another
// is a *TopologyError naming x-queue-type.
func WithQueueType(t warren.QueueType) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.quorum.queueType = t })
}

// WithDeliveryLimit sets the x-delivery-limit of a quorum work queue
// (default DefaultDeliveryLimit; 0: none, the broker delivers a message
// for ever). It is set only where a dead-letter route exists (not with
// WithoutDeadLetterExchange or on an adopted queue), since past the limit
// the broker drops a message that has nowhere to go. A limit the Spec's
// queue arguments set is kept. Like every argument it is part of the
// queue: a queue declared before with another limit (or none) is a
// *TopologyError naming x-delivery-limit.
func WithDeliveryLimit(n int) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.quorum.deliveryLimit = max(n, 0) })
}

// WithLeaderLocator sets where the leaders of the consumer's quorum queues
// (work, dead-letter and wait queues) are placed when they are declared
// (x-queue-leader-locator); without it the broker's default applies
// (client-local unless the cluster configures another).
func WithLeaderLocator(l LeaderLocator) ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.quorum.leaderLocator = l })
}

// applyQueueType gives spec's queue the type of WithQueueType; a quorum
// queue is durable.
func (c *consumerConfig) applyQueueType(spec *Spec) {
	if c.quorum.queueType != "" {
		spec.Queue.Type = c.quorum.queueType
	}
	if spec.Queue.Type == warren.Quorum && !spec.Queue.Passive {
		spec.Queue.Durable = true // the broker refuses a transient quorum queue
	}
}

// quorumTopology completes the quorum queues of t, the topology of a
// consumer of queue: the work queue's delivery limit, the leader locator
// of each, and at-least-once dead-lettering.
func quorumTopology(t warren.Topology, queue string, cfg *consumerConfig) warren.Topology {
	limit := cfg.quorum.deliveryLimit
	if limit < 0 {
		limit = max(DefaultDeliveryLimit, 2*cfg.requeueLimit)
	}
	queues := make([]warren.Queue, len(t.Queues))
	for i, q := range t.Queues {
		if q.Type == warren.Quorum && !q.Passive {
			args := make(amqp.Table, len(q.Args)+4)
			for k, v := range q.Args {
				args[k] = v
			}
			_, dlx := args["x-dead-letter-exchange"]
			if _, set := args["x-delivery-limit"]; q.Name == queue && dlx && limit > 0 && !set {
				args["x-delivery-limit"] = int64(limit)
			}
			if _, set := args["x-queue-leader-locator"]; cfg.quorum.leaderLocator != "" && !set {
				args["x-queue-leader-locator"] = string(cfg.quorum.leaderLocator)
			}
			q.Args = args
		}
		queues[i] = q
	}
	t.Queues = queues
	return quorumDeadLettering(t)
}

// quorumDeadLettering makes the broker's own dead-lettering at least once
// on the quorum queues of t that dead-letter (the work queue and its wait
// queues): x-dead-letter-strategy at-least-once, which RabbitMQ 3.10+
// honours only together with x-overflow reject-publish. Without it a
// quorum queue dead-letters at most once, and a nack fallback or a
// delivery-limit drop could lose the message. Arguments the caller set are
// kept.
func quorumDeadLettering(t warren.Topology) warren.Topology {
	queues := make([]warren.Queue, len(t.Queues))
	for i, q := range t.Queues {
		if q.Type == warren.Quorum && q.Args["x-dead-letter-exchange"] != nil {
			args := make(amqp.Table, len(q.Args)+2)
			for k, v := range q.Args {
				args[k] = v
			}
			if _, set := args["x-dead-letter-strategy"]; !set {
				args["x-dead-letter-strategy"] = "at-least-once"
			}
			if _, set := args["x-overflow"]; !set {
				args["x-overflow"] = "reject-publish"
			}
			q.Args = args
		}
		queues[i] = q
	}
	t.Queues = queues
	return t
}
