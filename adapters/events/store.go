package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// RabbitStore is a Store on RabbitMQ: it keeps events per topic and reads
// them back in the order they were first written, and a Write with an ID
// already stored replaces that event, as go-micro's store does. Each topic is a
// RabbitMQ stream queue "<name>.store.<topic>", written through the
// default exchange: a Store is separate from a Stream, and writing to it
// notifies no consumer. It is safe for concurrent use.
type RabbitStore struct {
	client  *rabbitmq.Client
	options *Options

	topics *declarer
}

// NewStore returns a store on client's connections. Topics' stream queues
// are declared on first write. A StoreOptions.Backup is refused with
// ErrUnsupported (see Backup).
func NewStore(client *rabbitmq.Client, opts ...StoreOption) (*RabbitStore, error) {
	cfg := NewOptions(opts...)
	if err := validateName(cfg.Name); err != nil {
		return nil, err
	}
	if cfg.Backup != nil {
		return nil, fmt.Errorf("%w: StoreOptions.Backup (the events are in the broker's replicated stream queues; back the broker up)", ErrUnsupported)
	}
	return &RabbitStore{client: client, options: cfg, topics: newDeclarer()}, nil
}

var _ Store = (*RabbitStore)(nil)

// Queue returns the stream queue that holds topic.
func (st *RabbitStore) Queue(topic string) string { return StoreQueue(st.options.Name, topic) }

func (st *RabbitStore) checkTopic(topic string) error {
	if err := ValidateTopic(topic); err != nil {
		return err
	}
	return checkQueueName(topic, st.Queue(topic))
}

// Write stores event under event.Topic and returns once the broker has
// confirmed it. An empty ID is filled with a new one and a zero Timestamp
// with the current time, in event itself. An event whose ID is already
// stored under the topic replaces it: Read returns the new one, at the
// place of the first (the old one stays on disk until retention drops it). The event expires after
// WithTTL's duration (the store's WithDefaultTTL when not given): Read no
// longer returns it, though it stays on disk until the stream's retention
// drops it.
func (st *RabbitStore) Write(event *Event, opts ...WriteOption) error {
	if event == nil {
		return fmt.Errorf("%w: nil event", ErrInvalidOption)
	}
	if err := st.checkTopic(event.Topic); err != nil {
		return err
	}
	o := WriteOptions{TTL: st.options.TTL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.TTL < 0 {
		return fmt.Errorf("%w: TTL %v is negative", ErrInvalidOption, o.TTL)
	}
	h, err := metadataHeaders(event.Metadata)
	if err != nil {
		return err
	}
	if event.ID == "" {
		event.ID = newID()
	}
	if event.Timestamp.IsZero() {
		event.Timestamp = time.Now()
	}
	pub := publishing(event.ID, event.Timestamp, h, event.Payload, "")
	if o.TTL > 0 {
		pub.Headers[HeaderExpiresAt] = time.Now().Add(o.TTL).UnixMilli()
	}
	ctx, cancel := opContext(o.Context, st.options)
	defer cancel()
	if err := st.publish(ctx, event.Topic, &warren.Publishing{RoutingKey: st.Queue(event.Topic), Mandatory: true, Publishing: pub}); err != nil {
		return fmt.Errorf("warren/events: store write to %q: %w", event.Topic, err)
	}
	return nil
}

// publish sends p to topic's stream queue, declaring it first.
func (st *RabbitStore) publish(ctx context.Context, topic string, p *warren.Publishing) error {
	for attempt := 0; ; attempt++ {
		// After an unroutable publish the queue was deleted under us:
		// declare it again.
		q := st.Queue(topic)
		err := st.topics.ensure(ctx, topic, attempt > 0, func() error {
			return declareStream(ctx, st.client, q, warren.Topology{Queues: []warren.Queue{streamQueueDecl(q, st.options)}})
		})
		if err != nil {
			return err
		}
		err = st.client.Publisher().Publish(ctx, p)
		if errors.Is(err, warren.ErrUnroutable) && attempt == 0 {
			continue
		}
		return err
	}
}
