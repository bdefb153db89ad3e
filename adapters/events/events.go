package events

import "fmt"

// Stream publishes events to topics and consumes them, with go-micro's
// method set. *RabbitStream implements it on RabbitMQ.
type Stream interface {
	Publish(topic string, msg any, opts ...PublishOption) error
	Consume(topic string, opts ...ConsumeOption) (<-chan Event, error)
}

// Store keeps events per topic and reads them back, with go-micro's
// method set. *RabbitStore implements it on RabbitMQ.
type Store interface {
	Read(topic string, opts ...ReadOption) ([]*Event, error)
	Write(event *Event, opts ...WriteOption) error
}

// Backup is go-micro's hook for snapshotting a store to long-term storage.
// A RabbitStore has nothing to snapshot in-process (its events are in
// replicated stream queues on the broker), so NewStore refuses a Backup
// with ErrUnsupported; back the broker up instead (see the README).
type Backup interface {
	Snapshot(st Store) error
}

// DefaultStream and DefaultStore are used by the package-level Publish,
// Consume, Read and Write. They are nil until the service sets them, for
// example to the values NewStream and NewStore return.
var (
	DefaultStream Stream
	DefaultStore  Store
)

// Publish publishes msg on topic through DefaultStream.
func Publish(topic string, msg any, opts ...PublishOption) error {
	if DefaultStream == nil {
		return fmt.Errorf("%w: events.DefaultStream is not set", ErrNoDefault)
	}
	return DefaultStream.Publish(topic, msg, opts...)
}

// Consume consumes topic through DefaultStream.
func Consume(topic string, opts ...ConsumeOption) (<-chan Event, error) {
	if DefaultStream == nil {
		return nil, fmt.Errorf("%w: events.DefaultStream is not set", ErrNoDefault)
	}
	return DefaultStream.Consume(topic, opts...)
}

// Read reads topic's events from DefaultStore.
func Read(topic string, opts ...ReadOption) ([]*Event, error) {
	if DefaultStore == nil {
		return nil, fmt.Errorf("%w: events.DefaultStore is not set", ErrNoDefault)
	}
	return DefaultStore.Read(topic, opts...)
}

// Write writes event to DefaultStore.
func Write(event *Event, opts ...WriteOption) error {
	if DefaultStore == nil {
		return fmt.Errorf("%w: events.DefaultStore is not set", ErrNoDefault)
	}
	return DefaultStore.Write(event, opts...)
}
