package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// AckFunc settles an event as handled; see Event.SetAckFunc.
type AckFunc func() error

// NackFunc hands an event back; see Event.SetNackFunc.
type NackFunc func() error

// Event is one event as a consumer or a Store.Read sees it, with
// go-micro's fields and methods.
//
// Events received from Consume in manual mode (WithAutoAck(false, ...))
// must be settled with Ack or Nack; copies of an Event share that state.
// In automatic mode, and for events from a Store, Ack and Nack do nothing
// and return nil (go-micro's would call a nil function).
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

	ackFunc  AckFunc
	nackFunc NackFunc
	attempt  int
}

// Ack marks the event handled. For an event from Consume in manual mode
// it returns ErrAlreadySettled if it was already acked or nacked,
// ErrRedelivered if this copy's ack wait ran out and the event was
// redelivered, ErrConnectionLost if the broker took a grouped event back
// after a lost channel, and ErrClosed once the consumer has stopped.
func (e *Event) Ack() error {
	if e.ackFunc == nil {
		return nil
	}
	return e.ackFunc()
}

// SetAckFunc sets what Ack does. Consume sets it for manual-mode events;
// code that builds Events itself (a test double of Stream, say) sets its
// own.
func (e *Event) SetAckFunc(f AckFunc) { e.ackFunc = f }

// Nack hands the event back for redelivery, or to the dead-letter queue
// when WithRetryLimit's redeliveries are used up. Its errors are Ack's, or
// the dead-letter publish's.
func (e *Event) Nack() error {
	if e.nackFunc == nil {
		return nil
	}
	return e.nackFunc()
}

// SetNackFunc sets what Nack does; see SetAckFunc.
func (e *Event) SetNackFunc(f NackFunc) { e.nackFunc = f }

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
