package deadletter

import (
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// ErrForeignQueue is reported for a message whose failed queue's
// dead-letter queue is not the one being replayed: Replay returns a message
// only to the queue whose dead-letter queue holds it.
var ErrForeignQueue = errors.New("warren/deadletter: the message failed in a queue whose dead-letter queue is not this one")

// ReplayQueue returns the queue Replay passes messages of queue through:
// "<queue>.retry.replay". It is a wait queue of queue with no delay: a
// message expires in it at once and the broker dead-letters it to queue
// through the default exchange, writing the x-death entry by which queue's
// consumer trusts its x-original-* headers (as for a delayed retry).
func ReplayQueue(queue string) string { return queue + ".retry.replay" }

// replayQueueExpiry is how long an unused replay queue lives (x-expires).
const replayQueueExpiry = 3_600_000 // ms

// prepareReplay makes sure queue exists (a replay into a missing queue
// would be dropped by the broker's dead-lettering) and declares its replay
// queue. It uses a channel of its own: a failed declaration closes it.
func prepareReplay(conn *amqp.Connection, queue string) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("warren/deadletter: open channel: %w", err)
	}
	defer ch.Close()
	if _, err := depth(ch, queue); err != nil {
		return err
	}
	_, err = ch.QueueDeclare(ReplayQueue(queue), true, false, false, false, amqp.Table{
		"x-message-ttl":             int32(0),
		"x-expires":                 int32(replayQueueExpiry),
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": queue,
	})
	if err != nil {
		return fmt.Errorf("warren/deadletter: declare replay queue of %q: %w", queue, err)
	}
	return nil
}

// replayCopy is what Replay publishes for entry e of delivery d:
// ReplayPublishing(d) with the original exchange and routing key in
// x-original-*, by which the consumer dispatches it.
func replayCopy(e *Entry, d *amqp.Delivery) amqp.Publishing {
	p := ReplayPublishing(d)
	p.Headers[warren.HeaderOriginalExchange] = e.OriginalExchange
	p.Headers[warren.HeaderOriginalRoutingKey] = e.OriginalRoutingKey
	return p
}
