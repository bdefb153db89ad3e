package warren

import (
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
	if orig, ok := HeaderString(d.Headers, HeaderOriginalExchange); ok && m.Attempt > 1 {
		m.Exchange = orig
	}
	if orig, ok := HeaderString(d.Headers, HeaderOriginalRoutingKey); ok && m.Attempt > 1 {
		m.RoutingKey = orig
	}
}
