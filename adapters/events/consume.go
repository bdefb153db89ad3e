package events

import (
	"context"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
)

const (
	defaultAckWait  = 30 * time.Second
	defaultPrefetch = 128
	// offsetSlack is how far before a WithOffset time the consumer attaches
	// to the stream, so that a broker clock behind the publisher's loses no
	// event; the surplus is filtered by HeaderPublishedAt.
	offsetSlack = 5 * time.Second
)

// Consume starts a consumer of topic and returns the channel it delivers
// events on. The channel is closed when the consumer stops: when the
// ConsumeContext context ends, the stream is closed, or the client is
// done (closed, or its recovery gave up: then the ErrorHandler gets the
// client's error, matching rabbitmq.ErrGaveUp, first).
//
// Without WithGroup the consumer reads the topic's stream queue and gets
// every event published from now on (or from WithOffset's time); with
// WithGroup it shares the group's queue with the group's other consumers.
// Consume returns once the consumer is attached, so events published after
// it returns are delivered.
func (s *RabbitStream) Consume(topic string, opts ...ConsumeOption) (<-chan Event, error) {
	if err := ValidateTopic(topic); err != nil {
		return nil, err
	}
	o := ConsumeOptions{AutoAck: true, Prefetch: defaultPrefetch}
	for _, opt := range opts {
		opt(&o)
	}
	o.RetryLimit, o.CustomRetries = o.GetRetryLimit(), true
	if err := checkConsumeOptions(&o); err != nil {
		return nil, err
	}
	c, err := s.newConsumer(topic, o)
	if err != nil {
		return nil, err
	}
	if err := s.register(c); err != nil {
		c.cancel()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.ctx, s.options.Timeout)
	defer cancel()
	sess, deliveries, err := c.start(ctx)
	if err != nil {
		c.cancel()
		s.unregister(c)
		return nil, fmt.Errorf("warren/events: consume %q: %w", topic, err)
	}
	go c.run(sess, deliveries)
	return c.out, nil
}

func checkConsumeOptions(o *ConsumeOptions) error {
	if err := validateGroup(o.Group); err != nil {
		return err
	}
	if o.Group != "" && !o.Offset.IsZero() {
		return ErrGroupOffset
	}
	if o.AckWait < 0 {
		return fmt.Errorf("%w: ack wait %v is negative", ErrInvalidOption, o.AckWait)
	}
	if o.AckWait == 0 {
		o.AckWait = defaultAckWait
	}
	if o.RetryLimit < -1 {
		return fmt.Errorf("%w: retry limit %d (use -1 for no limit)", ErrInvalidOption, o.RetryLimit)
	}
	if o.Prefetch < 1 || o.Prefetch > 65535 {
		return fmt.Errorf("%w: prefetch %d is not in 1..65535", ErrInvalidOption, o.Prefetch)
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	return nil
}

// newConsumer chooses the queue and the topology: the group's quorum queue
// (with its dead-letter queue) or the topic's stream queue.
func (s *RabbitStream) newConsumer(topic string, o ConsumeOptions) (*consumer, error) {
	sq := StreamQueue(s.exchange, topic)
	if err := checkQueueName(topic, warren.DeadLetterQueue(sq)); err != nil {
		return nil, err
	}
	c := &consumer{stream: s, topic: topic, o: o, topo: s.topicTopology(topic), next: -1}
	if o.Group == "" {
		c.fromStream = true
		c.queue = sq
		c.dlq = warren.DeadLetterQueue(sq)
		c.topo.Queues = append(c.topo.Queues, warren.Queue{Name: c.dlq, Type: warren.Quorum, Durable: true})
	} else {
		c.queue = GroupQueue(s.exchange, o.Group, topic)
		c.dlq = warren.DeadLetterQueue(c.queue)
		if err := checkQueueName(topic, c.dlq); err != nil {
			return nil, err
		}
		group, err := warren.ConsumerTopology(s.exchangeDecl(),
			warren.Queue{Name: c.queue, Type: warren.Quorum, Durable: true}, []string{topic}, nil)
		if err != nil {
			return nil, err
		}
		c.topo.Queues = append(c.topo.Queues, group.Queues...)
		c.topo.Bindings = append(c.topo.Bindings, group.Bindings...)
	}
	c.init()
	return c, nil
}

func (s *RabbitStream) register(c *consumer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.consumers[c] = struct{}{}
	s.wg.Add(1)
	return nil
}

func (s *RabbitStream) unregister(c *consumer) {
	s.mu.Lock()
	_, ok := s.consumers[c]
	delete(s.consumers, c)
	s.mu.Unlock()
	if ok {
		s.wg.Done()
	}
}
