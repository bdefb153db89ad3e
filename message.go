package warren

import (
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Message is a delivery as a handler sees it: where it came from, its
// properties, headers and body, and what warren knows about it (the attempt
// and the route that matched). It has no Ack or Nack:
// handlers return an error and the framework settles.
//
// Ownership: the transport takes Messages from a pool and puts them back
// after settlement. A handler, or a middleware, that needs the message (or
// its Body or Headers) after it returns must keep msg.Clone(), not msg.
type Message struct {
	// Exchange and RoutingKey are where the message was published to. For a
	// retried message they are the original ones, so that it reaches the
	// same route again.
	Exchange   string
	RoutingKey string
	// Queue is the queue the message was consumed from.
	Queue string
	// Route is the route that matched, named by the pattern it was mounted
	// on ("Order.*"): the x-warren-route header and the route label of logs
	// and metrics carry it. It is empty while the NotFound handler runs.
	Route string
	// Attempt counts deliveries of this message to a handler by warren,
	// starting at 1. Delayed retries carry it in the x-warren-attempt header
	// across processes.
	Attempt int
	// Redelivered is the broker's redelivered flag.
	Redelivered bool
	// DeliveryTag is the broker's tag for this delivery on its channel (0
	// when the message did not come from a broker). It is for observability
	// only (the messaging.rabbitmq.message.delivery_tag span attribute):
	// settlement is the transport's, and a tag means nothing on another
	// channel or after a reconnect.
	DeliveryTag uint64

	Headers amqp.Table
	Body    []byte

	ContentType     string
	ContentEncoding string
	DeliveryMode    uint8
	Priority        uint8
	CorrelationID   string
	ReplyTo         string
	Expiration      string
	MessageID       string
	Timestamp       time.Time
	Type            string
	UserID          string
	AppID           string

	// Value holds a decoded body when a decoding middleware put one there.
	Value any
}

// Clone returns a deep copy of m that the caller owns: its Body and Headers
// share nothing with m.
func (m *Message) Clone() *Message {
	c := *m
	if m.Body != nil {
		c.Body = append([]byte(nil), m.Body...)
	}
	c.Headers = cloneTable(m.Headers)
	return &c
}

// Header returns the header named key, or nil.
func (m *Message) Header(key string) any { return m.Headers[key] }

// Publishing returns an outgoing copy of m's properties, headers and body,
// addressed to exchange and key. Headers are copied; the body is shared.
func (m *Message) Publishing() amqp.Publishing {
	return amqp.Publishing{
		Headers:         cloneTable(m.Headers),
		ContentType:     m.ContentType,
		ContentEncoding: m.ContentEncoding,
		DeliveryMode:    m.DeliveryMode,
		Priority:        m.Priority,
		CorrelationId:   m.CorrelationID,
		ReplyTo:         m.ReplyTo,
		Expiration:      m.Expiration,
		MessageId:       m.MessageID,
		Timestamp:       m.Timestamp,
		Type:            m.Type,
		UserId:          m.UserID,
		AppId:           m.AppID,
		Body:            m.Body,
	}
}

func cloneTable(t amqp.Table) amqp.Table {
	if t == nil {
		return nil
	}
	c := make(amqp.Table, len(t))
	for k, v := range t {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case amqp.Table:
		return cloneTable(x)
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = cloneValue(e)
		}
		return c
	case []byte:
		return append([]byte(nil), x...)
	default:
		return v
	}
}
