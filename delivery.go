package warren

import (
	"strings"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/transport"
)

var messagePool = sync.Pool{New: func() any { return new(Message) }}

// The transports reach the pool and fromDelivery through
// internal/transport: they are not API, because a user who released a
// message the transport still holds would corrupt the next delivery.
func init() {
	transport.Set(transport.Hooks[*Message]{
		Acquire:      acquireMessage,
		Release:      releaseMessage,
		FromDelivery: (*Message).fromDelivery,
	})
}

// acquireMessage returns an empty Message from the pool, so the hot path
// does not allocate a Message per delivery.
func acquireMessage() *Message { return messagePool.Get().(*Message) }

// releaseMessage clears m and returns it to the pool. m must not be used
// afterwards.
func releaseMessage(m *Message) {
	*m = Message{}
	messagePool.Put(m)
}

// fromDelivery fills m from an amqp091-go delivery consumed from queue. The
// body and headers are shared with d, not copied.
func (m *Message) fromDelivery(d *amqp.Delivery, queue string) {
	m.Exchange = d.Exchange
	m.RoutingKey = d.RoutingKey
	m.Queue = queue
	m.Redelivered = d.Redelivered
	m.DeliveryTag = d.DeliveryTag
	m.Headers = d.Headers
	m.Body = d.Body
	m.ContentType = d.ContentType
	m.ContentEncoding = d.ContentEncoding
	m.DeliveryMode = d.DeliveryMode
	m.Priority = d.Priority
	m.CorrelationID = d.CorrelationId
	m.ReplyTo = d.ReplyTo
	m.Expiration = d.Expiration
	m.MessageID = d.MessageId
	m.Timestamp = d.Timestamp
	m.Type = d.Type
	m.UserID = d.UserId
	m.AppID = d.AppId
	m.Attempt = attemptOf(d.Headers)
	if cameBackFromWaitQueue(d, queue) {
		if orig, ok := HeaderString(d.Headers, HeaderOriginalExchange); ok {
			m.Exchange = orig
		}
		if orig, ok := HeaderString(d.Headers, HeaderOriginalRoutingKey); ok {
			m.RoutingKey = orig
		}
	}
}

// cameBackFromWaitQueue reports whether the broker dead-lettered d back to
// queue from one of queue's own wait queues (WaitQueue; a DLQ replay goes
// through one too). Only such a delivery is dispatched by its
// x-original-* headers: anything else by the exchange and key it was
// published with, or a publisher allowed to send Order.Created could reach
// the Admin.PurgeAll route by writing x-original-routingKey, bypassing the
// broker's topic permissions.
//
// Such a delivery arrives through the default exchange with the queue's
// name as routing key (the wait queue's x-dead-letter-* arguments), and its
// newest x-death entry, which the broker wrote, names a wait queue of this
// queue with reason "expired". Any delay counts: a wait queue of an
// earlier retry policy still returns its messages after a deploy.
func cameBackFromWaitQueue(d *amqp.Delivery, queue string) bool {
	if d.Exchange != "" || d.RoutingKey != queue || queue == "" {
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
	return reason == "expired" && strings.HasPrefix(from, queue+waitQueueInfix)
}
