package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one event as a consumer or a Store.Read sees it.
//
// Events received from Consume in manual mode (WithAutoAck(false, ...))
// must be settled with Ack or Nack; copies of an Event share that state.
// In automatic mode, and for events from a Store, Ack and Nack do nothing.
type Event struct {
	// ID identifies the event (the AMQP message id); redeliveries keep it.
	ID string
	// Topic is the topic the event was published on.
	Topic string
	// Timestamp is the event's time: WithTimestamp's, or when it was
	// published; nanosecond precision.
	Timestamp time.Time
	// Metadata holds WithMetadata's pairs (the message's AMQP headers,
	// except the ones the broker and warren write).
	Metadata map[string]string
	// Payload is the message body: JSON unless Publish was given a []byte.
	Payload []byte

	d       *delivery // nil when there is nothing to settle
	gen     int       // which emission of d this copy is
	attempt int
}

// Ack marks the event handled. It returns ErrAlreadySettled if it was
// already acked or nacked, ErrRedelivered if this copy's ack wait ran out
// and the event was redelivered, ErrConnectionLost if the broker took a
// grouped event back after a lost channel, and ErrClosed once the consumer
// has stopped.
func (e *Event) Ack() error {
	if e.d == nil {
		return nil
	}
	return e.d.c.ack(e.d, e.gen)
}

// Nack hands the event back for redelivery, or to the dead-letter queue
// when WithRetryLimit's redeliveries are used up. Its errors are Ack's, or
// the dead-letter publish's.
func (e *Event) Nack() error {
	if e.d == nil {
		return nil
	}
	return e.d.c.nack(e.d, e.gen, "nacked by the consumer")
}

// Attempt returns which delivery of the event this is, from 1 (for a
// grouped event, counted by the broker across consumers); 0 for an event
// read from a Store.
func (e *Event) Attempt() int {
	return e.attempt
}

// Unmarshal decodes the JSON payload into v. A payload that is not JSON,
// or does not fit v, is an error that wraps ErrDecode and the decoder's
// error.
func (e *Event) Unmarshal(v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("%w: event %s on topic %q into %T: %w", ErrDecode, e.ID, e.Topic, v, err)
	}
	return nil
}
