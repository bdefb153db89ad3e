package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// RabbitStream is a Stream on RabbitMQ: it publishes and consumes events
// in the manner of go-micro's streams. It is safe for concurrent use. The package
// documentation describes the topology and the delivery semantics.
type RabbitStream struct {
	client   *rabbitmq.Client
	options  *Options
	exchange string

	topics *declarer // topics whose stream queue is declared

	mu        sync.Mutex
	consumers map[*consumer]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// NewStream returns a Stream on client's connections and declares its
// exchange ("<name>.topic.exchange", durable topic). The client stays the
// caller's: close the Stream first, then the client.
func NewStream(client *rabbitmq.Client, opts ...Option) (*RabbitStream, error) {
	cfg := NewOptions(opts...)
	if err := validateName(cfg.Name); err != nil {
		return nil, err
	}
	s := &RabbitStream{
		client:    client,
		options:   cfg,
		exchange:  warren.StreamExchange(cfg.Name),
		topics:    newDeclarer(),
		consumers: map[*consumer]struct{}{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	if err := client.Declare(ctx, warren.Topology{Exchanges: []warren.Exchange{s.exchangeDecl()}}); err != nil {
		return nil, fmt.Errorf("warren/events: new stream %q: %w", cfg.Name, err)
	}
	return s, nil
}

var _ Stream = (*RabbitStream)(nil)

// Exchange returns the name of the stream's exchange.
func (s *RabbitStream) Exchange() string { return s.exchange }

func (s *RabbitStream) exchangeDecl() warren.Exchange {
	return warren.Exchange{Name: s.exchange, Kind: warren.KindTopic, Durable: true}
}

// topicTopology is what every publisher and consumer of topic declares:
// the exchange, the topic's stream queue and its binding.
func (s *RabbitStream) topicTopology(topic string) warren.Topology {
	q := StreamQueue(s.exchange, topic)
	return warren.Topology{
		Exchanges: []warren.Exchange{s.exchangeDecl()},
		Queues:    []warren.Queue{streamQueueDecl(q, s.options)},
		Bindings:  []warren.Binding{{Exchange: s.exchange, Queue: q, Key: topic}},
	}
}

// streamQueueDecl describes a durable stream queue with the configured
// retention.
func streamQueueDecl(name string, cfg *Options) warren.Queue {
	args := amqp.Table{}
	if cfg.MaxAge > 0 {
		args["x-max-age"] = fmt.Sprintf("%ds", max(1, int64(cfg.MaxAge/time.Second)))
	}
	if cfg.MaxBytes > 0 {
		args["x-max-length-bytes"] = cfg.MaxBytes
	}
	return warren.Queue{Name: name, Type: "stream", Durable: true, Args: args}
}

// ensureTopic declares topic's stream queue once per Stream (again after
// a loss), so that every event published is stored.
func (s *RabbitStream) ensureTopic(ctx context.Context, topic string, again bool) error {
	err := s.topics.ensure(ctx, topic, again, func() error {
		return declareStream(ctx, s.client, StreamQueue(s.exchange, topic), s.topicTopology(topic))
	})
	if err != nil {
		return fmt.Errorf("warren/events: declare topic %q: %w", topic, err)
	}
	return nil
}

// opContext returns ctx, or a context bounded by the configured timeout.
func opContext(ctx context.Context, cfg *Options) (context.Context, context.CancelFunc) {
	if ctx != nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.Background(), cfg.Timeout)
}

// Close stops every consumer of the stream (each closes its channel after
// the events it handed out are settled, up to WithShutdownTimeout) and
// waits for them. Later calls to Publish and Consume return ErrClosed. It
// does not close the client.
func (s *RabbitStream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cs := make([]*consumer, 0, len(s.consumers))
	for c := range s.consumers {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.cancel()
	}
	s.wg.Wait()
	return nil
}

func (s *RabbitStream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
