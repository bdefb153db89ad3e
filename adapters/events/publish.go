package events

import (
	"errors"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// Publish publishes msg as an event on topic and returns once the broker
// has confirmed it (stored in the topic's stream queue and routed to every
// group's queue), or with an error. A []byte msg is the payload as is; any
// other value is JSON-encoded. The event gets a new ID, the time of the
// call as Timestamp unless WithTimestamp says otherwise, and WithMetadata's
// pairs as headers.
//
// An error after the message was sent (the channel lost before the
// confirm) leaves it unknown whether the event was stored; publishing again
// may duplicate it.
func (s *RabbitStream) Publish(topic string, msg any, opts ...PublishOption) error {
	if err := ValidateTopic(topic); err != nil {
		return err
	}
	if err := checkQueueName(topic, StreamQueue(s.exchange, topic)); err != nil {
		return err
	}
	if s.isClosed() {
		return ErrClosed
	}
	var o PublishOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.Timestamp.IsZero() {
		o.Timestamp = time.Now()
	}
	payload, contentType, err := encode(msg)
	if err != nil {
		return err
	}
	h, err := metadataHeaders(o.Metadata)
	if err != nil {
		return err
	}
	ctx, cancel := opContext(o.Context, s.options)
	defer cancel()
	pub := &warren.Publishing{
		Exchange:   s.exchange,
		RoutingKey: topic,
		Mandatory:  true, // the topic's stream queue must take it
		Publishing: publishing(newID(), o.Timestamp, h, payload, contentType),
	}
	for attempt := 0; ; attempt++ {
		// After an unroutable publish the stream queue was deleted under
		// us: declare it again.
		if err := s.ensureTopic(ctx, topic, attempt > 0); err != nil {
			return err
		}
		err = s.client.Publisher().Publish(ctx, pub)
		if errors.Is(err, warren.ErrUnroutable) && attempt == 0 {
			continue
		}
		// A channel lost before the confirm, on a topic's first publishes,
		// is RabbitMQ's stream-creation race (see streamSettle) when another
		// client is still creating the stream: declare again (which waits
		// for it) and publish the same event, with the same id, once more.
		// At least once: the lost publish may have been stored.
		if errors.Is(err, rabbitmq.ErrConfirmLost) && attempt < maxLostConfirmRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("warren/events: publish to %q: %w", topic, err)
		}
		return nil
	}
}

// maxLostConfirmRetries bounds the republishes of an event whose confirm
// was lost (see Publish).
const maxLostConfirmRetries = 2

func encode(msg any) ([]byte, string, error) {
	if b, ok := msg.([]byte); ok {
		return b, "application/octet-stream", nil
	}
	b, err := warren.JSON.Marshal(msg)
	if err != nil {
		return nil, "", fmt.Errorf("%w %T: %w", ErrEncodingMessage, msg, err)
	}
	return b, warren.JSON.ContentType(), nil
}
