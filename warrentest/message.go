// Package warrentest serves messages through warren handlers without a
// broker, the way net/http/httptest serves HTTP handlers: build a message,
// serve it, and read back the settlement the transport would perform and
// everything the handler published.
//
// It tests handler logic. What the broker does (delivery, acks, dead-letter
// exchanges) is tested against a real RabbitMQ with adapters/rabbitmq.
package warrentest

import (
	"encoding/json"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// MessageOption sets a field of a message built by NewMessage.
type MessageOption func(*warren.Message)

// NewMessage returns a message as the transport would hand it to a router:
// attempt 1, persistent, a unique message id and the current time, with
// the given routing key and body. Options set anything else.
func NewMessage(routingKey string, body []byte, opts ...MessageOption) *warren.Message {
	m := &warren.Message{
		RoutingKey:   routingKey,
		Body:         body,
		Attempt:      1,
		DeliveryMode: amqp.Persistent,
		MessageID:    warren.NewMessageID(),
		Timestamp:    time.Now().UTC().Truncate(time.Second),
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// NewJSONMessage is NewMessage with v encoded as JSON and the content type
// set to application/json. It panics if v does not encode.
func NewJSONMessage(routingKey string, v any, opts ...MessageOption) *warren.Message {
	body, err := json.Marshal(v)
	if err != nil {
		panic("warren/warrentest: encode message body: " + err.Error())
	}
	return NewMessage(routingKey, body, append([]MessageOption{WithContentType("application/json")}, opts...)...)
}

// WithHeader sets one header.
func WithHeader(key string, value any) MessageOption {
	return func(m *warren.Message) {
		if m.Headers == nil {
			m.Headers = amqp.Table{}
		}
		m.Headers[key] = value
	}
}

// WithContentType sets the content type.
func WithContentType(ct string) MessageOption {
	return func(m *warren.Message) { m.ContentType = ct }
}

// WithExchange sets the exchange the message was published to.
func WithExchange(name string) MessageOption {
	return func(m *warren.Message) { m.Exchange = name }
}

// WithQueue sets the queue the message was consumed from.
func WithQueue(name string) MessageOption {
	return func(m *warren.Message) { m.Queue = name }
}

// WithMessageID sets the message id.
func WithMessageID(id string) MessageOption {
	return func(m *warren.Message) { m.MessageID = id }
}

// WithCorrelationID sets the correlation id.
func WithCorrelationID(id string) MessageOption {
	return func(m *warren.Message) { m.CorrelationID = id }
}

// WithReplyTo sets the queue a reply goes to.
func WithReplyTo(queue string) MessageOption {
	return func(m *warren.Message) { m.ReplyTo = queue }
}

// WithType sets the AMQP type property.
func WithType(t string) MessageOption {
	return func(m *warren.Message) { m.Type = t }
}

// WithAttempt sets the attempt, as on a retried message.
func WithAttempt(n int) MessageOption {
	return func(m *warren.Message) { m.Attempt = n }
}

// WithRedelivered sets the broker's redelivered flag.
func WithRedelivered() MessageOption {
	return func(m *warren.Message) { m.Redelivered = true }
}
