package events

import (
	"errors"
	"fmt"
)

// Errors returned by the package. Wrapped errors carry the details; test
// with errors.Is.
var (
	// ErrMissingTopic is returned for an empty topic.
	ErrMissingTopic = errors.New("warren/events: missing topic")
	// ErrInvalidTopic is returned for a topic the broker would refuse or
	// that cannot name a queue (see ValidateTopic).
	ErrInvalidTopic = errors.New("warren/events: invalid topic")
	// ErrInvalidName is returned for a stream, store or group name that
	// cannot name an exchange or queue.
	ErrInvalidName = errors.New("warren/events: invalid name")
	// ErrReservedMetadata is returned for a metadata key that the broker or
	// warren writes itself: the prefixes x-warren-, x-death, x-first-death-,
	// x-last-death-, x-exception-, x-original- and the keys x-stream-offset
	// and x-delivery-count.
	ErrReservedMetadata = errors.New("warren/events: reserved metadata key")
	// ErrEncodingMessage is returned when Publish cannot JSON-encode msg.
	ErrEncodingMessage = errors.New("warren/events: cannot encode message")
	// ErrDecode is returned by Event.Unmarshal when the payload does not
	// decode into the value given.
	ErrDecode = errors.New("warren/events: cannot decode event payload")
	// ErrGroupOffset is returned by Consume given both WithGroup and
	// WithOffset: a group's queue cannot start in the past on RabbitMQ
	// (the package README gives the reasons).
	ErrGroupOffset = errors.New("warren/events: WithGroup and WithOffset cannot be combined")
	// ErrInvalidOption is returned for an option value out of range.
	ErrInvalidOption = errors.New("warren/events: invalid option")
	// ErrClosed is returned by operations on a closed Stream or Store, and
	// by Ack and Nack once the consumer has stopped.
	ErrClosed = errors.New("warren/events: closed")
	// ErrAlreadySettled is returned by Ack or Nack of an event that was
	// already acked or nacked.
	ErrAlreadySettled = errors.New("warren/events: event already acked or nacked")
	// ErrRedelivered is returned by Ack or Nack of a copy of an event whose
	// ack wait ran out: the event has been redelivered (settle the newer
	// copy) or dead-lettered.
	ErrRedelivered = errors.New("warren/events: ack wait ran out; the event was redelivered or dead-lettered")
	// ErrUnsupported is returned for a go-micro feature RabbitMQ cannot
	// provide here (StoreOptions.Backup); it wraps errors.ErrUnsupported.
	ErrUnsupported = fmt.Errorf("warren/events: %w", errors.ErrUnsupported)
	// ErrNoDefault is returned by the package-level Publish, Consume, Read
	// and Write before DefaultStream or DefaultStore is set.
	ErrNoDefault = errors.New("warren/events: no default stream or store")
	// ErrConnectionLost is returned by Ack or Nack of a grouped event whose
	// channel was lost: the broker has taken it back and redelivers it.
	ErrConnectionLost = errors.New("warren/events: channel lost; the broker redelivers the event")
)
