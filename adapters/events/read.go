package events

import (
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

const (
	defaultReadLimit = 250
	readPrefetch     = 512
	// fenceAfter is how long Read waits for the next event before it
	// writes its fence (see Read).
	fenceAfter = 20 * time.Millisecond
)

// Read returns topic's unexpired events in the order they were written:
// ReadOffset skips the first n of them and ReadLimit returns at most n
// (default 250). A topic never written to has no events.
//
// Read sees every event whose Write returned before Read was called.
// RabbitMQ does not tell an AMQP 0.9.1 client where a stream ends, so
// Read, when it runs out of events before reaching its limit, writes a
// small fence message to the topic (skipped by every reader) and reads up
// to it. Read costs a scan of the topic's retained events from the first.
func (st *Store) Read(topic string, opts ...ReadOption) ([]*Event, error) {
	if err := st.checkTopic(topic); err != nil {
		return nil, err
	}
	o := readOptions{limit: defaultReadLimit}
	for _, opt := range opts {
		opt.applyRead(&o)
	}
	ctx, cancel := opContext(o.ctx, st.cfg)
	defer cancel()
	q := st.Queue(topic)

	ch, err := st.client.Channel(ctx)
	if err != nil {
		return nil, fmt.Errorf("events: store read %q: %w", topic, err)
	}
	defer func() { _ = ch.Close() }()
	if _, err := ch.QueueDeclarePassive(q, true, false, false, false, nil); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			return []*Event{}, nil
		}
		return nil, fmt.Errorf("events: store read %q: %w", topic, err)
	}
	if err := ch.Qos(readPrefetch, 0, false); err != nil {
		return nil, fmt.Errorf("events: store read %q: %w", topic, err)
	}
	deliveries, err := ch.Consume(q, "events.read."+newID(), false, false, false, false,
		amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		return nil, fmt.Errorf("events: store read %q: %w", topic, err)
	}

	now := time.Now().UnixMilli()
	fence := newID()
	fenced := false
	idle := time.NewTimer(fenceAfter)
	defer idle.Stop()
	out := []*Event{}
	skip := o.offset
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return nil, fmt.Errorf("events: store read %q: channel closed before the end of the topic", topic)
			}
			_ = ch.Ack(d.DeliveryTag, false)
			idle.Reset(fenceAfter)
			if id, ok := d.Headers[headerFence].(string); ok {
				if id == fence {
					return out, nil
				}
				continue
			}
			if exp, ok := warren.HeaderInt(d.Headers, HeaderExpiresAt); ok && exp <= now {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			ev := eventOf(&d, topic)
			out = append(out, &ev)
			if o.limit > 0 && uint(len(out)) >= o.limit {
				return out, nil
			}
		case <-idle.C:
			if fenced {
				continue
			}
			fenced = true
			err := st.publish(ctx, topic, &warren.Publishing{
				RoutingKey: q,
				Mandatory:  true,
				Publishing: amqp.Publishing{
					Headers:   amqp.Table{headerFence: fence, HeaderExpiresAt: now},
					MessageId: fence,
				},
			})
			if err != nil {
				return nil, fmt.Errorf("events: store read %q: write fence: %w", topic, err)
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("events: store read %q: %w", topic, ctx.Err())
		}
	}
}
