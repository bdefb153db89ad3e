package rabbitmq

import (
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// WithAdoptQueue makes the consumer adopt a work queue that another
// library or an operator declared, as it is: the queue is only checked to
// exist (a passive declare; a missing queue fails NewConsumer at once, and
// a queue deleted at run time is reported as ConsumerQueueMissing), its
// arguments are left alone, and everything else is declared as usual: the
// exchange, a binding for every route, the dead-letter queue and the wait
// queues. This is how a service moves to warren from goamqp (or any other
// library) with replicas of both sharing the queue (docs/MIGRATING.md).
//
// An adopted queue may have no dead-letter exchange, so the consumer never
// relies on one: every dead letter is a copy republished to the
// dead-letter queue and confirmed before the ack, and when that cannot be
// done (the broker refused the copy, or it cannot fit a frame) the message
// is requeued after a pause and reported (ConsumerSettleRequeued) instead
// of being nacked into nothing. WithSkipDeclare follows the same rule.
func WithAdoptQueue() ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.adopt = true })
}

// WithoutDeadLetterExchange declares the work queue without the
// x-dead-letter-exchange and x-dead-letter-routing-key arguments warren
// normally gives it, so that it has exactly the arguments of the Spec: for a
// queue shared with replicas of a service on another library that declares
// it so (goamqp: compat/goamqp.EventStream and Requests give its
// arguments), which could not declare it otherwise. Dead letters then go
// by warren's confirmed republish to the DLQ only, as on an adopted queue
// (WithAdoptQueue): nothing is nacked into nothing.
func WithoutDeadLetterExchange() ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.noDeadLetterExchange = true })
}

// withoutDeadLetterArgs removes the dead-letter arguments from queue in t.
func withoutDeadLetterArgs(t warren.Topology, queue string) warren.Topology {
	queues := make([]warren.Queue, len(t.Queues))
	for i, q := range t.Queues {
		if q.Name == queue && !q.Passive {
			args := make(amqp.Table, len(q.Args))
			for k, v := range q.Args {
				if k != "x-dead-letter-exchange" && k != "x-dead-letter-routing-key" {
					args[k] = v
				}
			}
			q.Args = args
		}
		queues[i] = q
	}
	t.Queues = queues
	return t
}

// hasDeadLetterRoute reports whether the broker routes what the consumer
// nacks without requeue to a dead-letter queue: only when the consumer
// declared its work queue itself, with x-dead-letter-exchange.
func hasDeadLetterRoute(t warren.Topology, queue string, skipDeclare bool) bool {
	if skipDeclare {
		return false
	}
	for _, q := range t.Queues {
		if q.Name == queue {
			_, dlx := q.Args["x-dead-letter-exchange"]
			return !q.Passive && dlx
		}
	}
	return false
}
