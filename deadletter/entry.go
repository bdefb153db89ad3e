package deadletter

import (
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// Entry is one message in a dead-letter queue, as List reads it: why it
// failed and where it came from, read from the headers warren (or the
// broker) wrote.
type Entry struct {
	MessageID     string `json:"message_id"`
	CorrelationID string `json:"correlation_id,omitempty"`
	// Exchange and RoutingKey are those the copy reached the dead-letter
	// queue with.
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routing_key"`

	// Reason is x-warren-reason ("error", "permanent", "decode", ...), or,
	// for a message the broker dead-lettered itself, the reason in its
	// latest x-death entry ("rejected", "expired", "maxlen",
	// "delivery_limit").
	Reason     string `json:"reason"`
	Error      string `json:"error,omitempty"`      // x-exception-message
	Stacktrace string `json:"stacktrace,omitempty"` // x-exception-stacktrace
	// Attempt is x-warren-attempt, the delivery that failed; 0 when absent
	// or not a sane count.
	Attempt int `json:"attempt"`
	// FailedAt is x-warren-failed-at, or the time of the latest x-death
	// entry; zero when neither is there.
	FailedAt time.Time `json:"failed_at,omitzero"`
	Route    string    `json:"route,omitempty"` // x-warren-route
	// Queue is the queue the message failed in: x-warren-queue, or the
	// queue of the latest x-death entry.
	Queue string `json:"queue,omitempty"`

	// OriginalExchange and OriginalRoutingKey are where Replay sends the
	// message: x-original-exchange and x-original-routingKey, or else the
	// first death's exchange and routing key in x-death. HasOrigin is false
	// when neither is there; such a message cannot be replayed.
	OriginalExchange   string `json:"original_exchange"`
	OriginalRoutingKey string `json:"original_routing_key"`
	HasOrigin          bool   `json:"has_origin"`

	ContentType string    `json:"content_type,omitempty"`
	Timestamp   time.Time `json:"timestamp,omitzero"`
	BodySize    int       `json:"body_size"`
	// Body and Headers are the message's own (shared with the delivery),
	// left out of the JSON form, which stays small and always encodes.
	Body    []byte     `json:"-"`
	Headers amqp.Table `json:"-"`
}

// EntryOf reads an Entry from a delivery. It never fails: headers of the
// wrong type, negative or absurd counts and malformed x-death entries are
// read as absent.
func EntryOf(d *amqp.Delivery) Entry {
	h := d.Headers
	e := Entry{
		MessageID:     d.MessageId,
		CorrelationID: d.CorrelationId,
		Exchange:      d.Exchange,
		RoutingKey:    d.RoutingKey,
		ContentType:   d.ContentType,
		Timestamp:     d.Timestamp,
		BodySize:      len(d.Body),
		Body:          d.Body,
		Headers:       h,
	}
	e.Reason, _ = warren.HeaderString(h, warren.HeaderReason)
	e.Error, _ = warren.HeaderString(h, warren.HeaderExceptionMessage)
	e.Stacktrace, _ = warren.HeaderString(h, warren.HeaderExceptionStacktrace)
	e.Route, _ = warren.HeaderString(h, warren.HeaderRoute)
	e.Queue, _ = warren.HeaderString(h, warren.HeaderQueue)
	e.Attempt, _ = warren.AttemptOf(h)
	if t, ok := h[warren.HeaderFailedAt].(time.Time); ok {
		e.FailedAt = t
	}

	deaths := warren.Deaths(h)
	if len(deaths) > 0 {
		latest := deaths[0]
		if e.Reason == "" {
			e.Reason = latest.Reason
		}
		if e.Queue == "" {
			e.Queue = latest.Queue
		}
		if e.FailedAt.IsZero() {
			e.FailedAt = latest.Time
		}
	}
	e.OriginalExchange, e.OriginalRoutingKey, e.HasOrigin = origin(h, deaths)
	return e
}

// origin returns where a dead-lettered message was first published: the
// x-original-* headers warren writes, or else the x-death entry of the
// first death (named by x-first-death-queue and -reason; the oldest entry
// when those are missing).
func origin(h amqp.Table, deaths []warren.Death) (exchange, key string, ok bool) {
	ex, okEx := warren.HeaderString(h, warren.HeaderOriginalExchange)
	rk, okRk := warren.HeaderString(h, warren.HeaderOriginalRoutingKey)
	if okEx && okRk {
		return ex, rk, true
	}
	if len(deaths) == 0 {
		return "", "", false
	}
	first := deaths[len(deaths)-1]
	q, okQ := warren.HeaderString(h, "x-first-death-queue")
	r, okR := warren.HeaderString(h, "x-first-death-reason")
	if okQ && okR {
		for _, d := range deaths {
			if d.Queue == q && d.Reason == r {
				first = d
				break
			}
		}
	}
	if len(first.RoutingKeys) == 0 {
		return "", "", false
	}
	return first.Exchange, first.RoutingKeys[0], true
}
