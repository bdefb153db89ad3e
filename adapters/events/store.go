package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// Store keeps events per topic and reads them back in the order they were
// written, in the manner of go-micro's events.Store. Each topic is a
// RabbitMQ stream queue "<name>.store.<topic>", written through the
// default exchange: a Store is separate from a Stream, and writing to it
// notifies no consumer. It is safe for concurrent use.
type Store struct {
	client *rabbitmq.Client
	cfg    *config

	topics *declarer
}

// NewStore returns a Store on client's connections. Topics' stream queues
// are declared on first write.
func NewStore(client *rabbitmq.Client, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(cfg)
	}
	if err := validateName(cfg.name); err != nil {
		return nil, err
	}
	return &Store{client: client, cfg: cfg, topics: newDeclarer()}, nil
}

// Queue returns the stream queue that holds topic.
func (st *Store) Queue(topic string) string { return StoreQueue(st.cfg.name, topic) }

func (st *Store) checkTopic(topic string) error {
	if err := ValidateTopic(topic); err != nil {
		return err
	}
	return checkQueueName(topic, st.Queue(topic))
}

// Write stores event under event.Topic and returns once the broker has
// confirmed it. An empty ID is filled with a new one and a zero Timestamp
// with the current time, in event itself. The event expires after
// WithTTL's duration (the store's WithDefaultTTL when not given): Read no
// longer returns it, though it stays on disk until the stream's retention
// drops it.
func (st *Store) Write(event *Event, opts ...WriteOption) error {
	if event == nil {
		return fmt.Errorf("%w: nil event", ErrInvalidOption)
	}
	if err := st.checkTopic(event.Topic); err != nil {
		return err
	}
	o := writeOptions{ttl: st.cfg.defaultTTL}
	for _, opt := range opts {
		opt.applyWrite(&o)
	}
	if o.ttl < 0 {
		return fmt.Errorf("%w: TTL %v is negative", ErrInvalidOption, o.ttl)
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
	if o.ttl > 0 {
		pub.Headers[HeaderExpiresAt] = time.Now().Add(o.ttl).UnixMilli()
	}
	ctx, cancel := opContext(o.ctx, st.cfg)
	defer cancel()
	if err := st.publish(ctx, event.Topic, &warren.Publishing{RoutingKey: st.Queue(event.Topic), Mandatory: true, Publishing: pub}); err != nil {
		return fmt.Errorf("events: store write to %q: %w", event.Topic, err)
	}
	return nil
}

// publish sends p to topic's stream queue, declaring it first.
func (st *Store) publish(ctx context.Context, topic string, p *warren.Publishing) error {
	for attempt := 0; ; attempt++ {
		// After an unroutable publish the queue was deleted under us:
		// declare it again.
		q := st.Queue(topic)
		err := st.topics.ensure(ctx, topic, attempt > 0, func() error {
			return declareStream(ctx, st.client, q, warren.Topology{Queues: []warren.Queue{streamQueueDecl(q, st.cfg)}})
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
