package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

const (
	defaultReadLimit = 250
	readPrefetch     = 512
	// chunkTail is how long Read waits for more messages once it has
	// reached the stream's last chunk (see Read).
	chunkTail = 50 * time.Millisecond
	// emptyWait is how long Read waits for the first message of the last
	// chunk before it takes the stream for empty.
	emptyWait = 250 * time.Millisecond
)

// Read returns topic's unexpired events in the order they were first
// written, each in its latest version (a Write with a known ID replaces
// the event): ReadOffset skips the first n of them and ReadLimit returns
// at most n (default 250). A topic never written to has no events.
//
// RabbitMQ does not tell an AMQP 0.9.1 client where a stream ends, and
// Read writes nothing to find out: it learns where the stream's last
// chunk starts (a consumer attached at "last"), reads the stream from
// "first" past that offset, and stops once the broker has sent nothing
// for 50 ms. It so sees every Write that returned before it was called
// (the broker sends a chunk's messages together). Read costs a scan of
// the topic's retained events, expired and replaced ones included.
func (st *RabbitStore) Read(topic string, opts ...ReadOption) ([]*Event, error) {
	if err := st.checkTopic(topic); err != nil {
		return nil, err
	}
	o := ReadOptions{Limit: defaultReadLimit}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := opContext(o.Context, st.options)
	defer cancel()
	events, err := st.scan(ctx, st.Queue(topic), topic)
	if err != nil {
		return nil, fmt.Errorf("warren/events: store read %q: %w", topic, err)
	}
	if uint(len(events)) <= o.Offset {
		return []*Event{}, nil
	}
	events = events[o.Offset:]
	if o.Limit > 0 && uint(len(events)) > o.Limit {
		events = events[:o.Limit]
	}
	return events, nil
}

// scan reads queue to its end and returns its unexpired events, each ID
// once, at its first place, in its latest version.
func (st *RabbitStore) scan(ctx context.Context, queue, topic string) ([]*Event, error) {
	ch, err := st.client.Channel(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = ch.Close() }()
	if _, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			return []*Event{}, nil
		}
		return nil, err
	}
	last, empty, err := st.lastChunk(ctx, queue)
	if err != nil || empty {
		return []*Event{}, err
	}
	if err := ch.Qos(readPrefetch, 0, false); err != nil {
		return nil, err
	}
	deliveries, err := ch.Consume(queue, "events.read."+newID(), false, false, false, false,
		amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		return nil, err
	}

	now := time.Now().UnixMilli()
	var (
		order   []string
		latest  = map[string]*amqp.Delivery{}
		reached bool
		tail    = time.NewTimer(time.Hour)
	)
	tail.Stop()
	defer tail.Stop()
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return nil, errors.New("channel closed before the end of the topic")
			}
			_ = ch.Ack(d.DeliveryTag, false)
			off, ok := warren.HeaderInt(d.Headers, brokerStreamOffset)
			if ok && off >= last {
				reached = true
			}
			if reached {
				tail.Reset(chunkTail)
			}
			key := d.MessageId
			if key == "" { // not written by a Store: nothing to replace it
				key = fmt.Sprintf("offset %d", off)
			}
			if _, seen := latest[key]; !seen {
				order = append(order, key)
			}
			latest[key] = &d
		case <-tail.C:
			out := make([]*Event, 0, len(order))
			for _, id := range order {
				d := latest[id]
				if exp, ok := warren.HeaderInt(d.Headers, HeaderExpiresAt); ok && exp <= now {
					continue
				}
				ev := eventOf(d, topic)
				out = append(out, &ev)
			}
			return out, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// lastChunk returns the offset at which queue's last chunk starts, from a
// consumer attached at "last" on a channel of its own; empty when nothing
// arrives within emptyWait.
func (st *RabbitStore) lastChunk(ctx context.Context, queue string) (offset int64, empty bool, err error) {
	ch, err := st.client.Channel(ctx)
	if err != nil {
		return 0, false, err
	}
	defer func() { _ = ch.Close() }()
	if err := ch.Qos(1, 0, false); err != nil {
		return 0, false, err
	}
	deliveries, err := ch.Consume(queue, "events.read.last."+newID(), false, false, false, false,
		amqp.Table{"x-stream-offset": "last"})
	if err != nil {
		return 0, false, err
	}
	wait := time.NewTimer(emptyWait)
	defer wait.Stop()
	select {
	case d, ok := <-deliveries:
		if !ok {
			return 0, false, errors.New("channel closed while looking for the end of the topic")
		}
		off, ok := warren.HeaderInt(d.Headers, brokerStreamOffset)
		if !ok {
			return 0, false, errors.New("stream delivery without x-stream-offset")
		}
		return off, false, nil
	case <-wait.C:
		return 0, true, nil
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
}
