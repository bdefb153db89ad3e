package rabbitmq

import (
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// trustOrigin undoes what m.FromDelivery took from publisher-written
// headers unless the delivery came back from one of its own queue's wait
// queues. A retry copy keeps its original exchange and routing key in
// x-original-* and its attempt in x-warren-attempt; only such a copy may
// be dispatched by them. Anything else is dispatched by the exchange and
// key it was published with: otherwise a publisher allowed
// to send Order.Created could reach the Admin.PurgeAll route by writing
// x-original-routingKey, bypassing the broker's topic permissions.
//
// A delivery came back from a wait queue when the broker dead-lettered it
// there: it arrives through the default exchange with the work queue's
// name as routing key (the wait queue's x-dead-letter-* arguments), and
// its newest x-death entry, which the broker wrote, names a wait queue of
// this queue with reason "expired".
func trustOrigin(m *warren.Message, d *amqp.Delivery) {
	if fromOwnWaitQueue(d, m.Queue) {
		// A retry copy (m.FromDelivery restored its origin already) or a
		// DLQ replay, whose attempt starts again at 1 (deadletter.Replay
		// passes it through the queue's replay queue, a wait queue with no
		// delay).
		if ex, ok := warren.HeaderString(d.Headers, warren.HeaderOriginalExchange); ok {
			m.Exchange = ex
		}
		if key, ok := warren.HeaderString(d.Headers, warren.HeaderOriginalRoutingKey); ok {
			m.RoutingKey = key
		}
		return
	}
	m.Exchange, m.RoutingKey = d.Exchange, d.RoutingKey
}

func fromOwnWaitQueue(d *amqp.Delivery, queue string) bool {
	if d.Exchange != "" || d.RoutingKey != queue {
		return false
	}
	deaths, ok := d.Headers["x-death"].([]any)
	if !ok || len(deaths) == 0 {
		return false
	}
	newest, ok := deaths[0].(amqp.Table)
	if !ok {
		return false
	}
	from, _ := newest["queue"].(string)
	reason, _ := newest["reason"].(string)
	// Any delay counts: a wait queue of an earlier retry policy still
	// returns its messages after a deploy.
	return reason == "expired" && strings.HasPrefix(from, queue+waitQueueInfix)
}

// waitQueueInfix joins a queue's name and a delay in the name of its wait
// queue (warren.WaitQueue).
const waitQueueInfix = ".retry."
