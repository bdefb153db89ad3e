package rabbitmq

import (
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

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
