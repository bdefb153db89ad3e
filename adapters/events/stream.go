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

// Stream publishes and consumes events on RabbitMQ, in the manner of
// go-micro's events.Stream. It is safe for concurrent use. The package
// documentation describes the topology and the delivery semantics.
type Stream struct {
	client   *rabbitmq.Client
	cfg      *config
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
func NewStream(client *rabbitmq.Client, opts ...Option) (*Stream, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(cfg)
	}
	if err := validateName(cfg.name); err != nil {
		return nil, err
	}
	s := &Stream{
		client:    client,
		cfg:       cfg,
		exchange:  warren.StreamExchange(cfg.name),
		topics:    newDeclarer(),
		consumers: map[*consumer]struct{}{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := client.Declare(ctx, warren.Topology{Exchanges: []warren.Exchange{s.exchangeDecl()}}); err != nil {
		return nil, fmt.Errorf("events: new stream %q: %w", cfg.name, err)
	}
	return s, nil
}

// Exchange returns the name of the stream's exchange.
func (s *Stream) Exchange() string { return s.exchange }

func (s *Stream) exchangeDecl() warren.Exchange {
	return warren.Exchange{Name: s.exchange, Kind: warren.KindTopic, Durable: true}
}

// topicTopology is what every publisher and consumer of topic declares:
// the exchange, the topic's stream queue and its binding.
func (s *Stream) topicTopology(topic string) warren.Topology {
	q := StreamQueue(s.exchange, topic)
	return warren.Topology{
		Exchanges: []warren.Exchange{s.exchangeDecl()},
		Queues:    []warren.Queue{streamQueueDecl(q, s.cfg)},
		Bindings:  []warren.Binding{{Exchange: s.exchange, Queue: q, Key: topic}},
	}
}

// streamQueueDecl describes a durable stream queue with the configured
// retention.
func streamQueueDecl(name string, cfg *config) warren.Queue {
	args := amqp.Table{}
	if cfg.maxAge > 0 {
		args["x-max-age"] = fmt.Sprintf("%ds", max(1, int64(cfg.maxAge/time.Second)))
	}
	if cfg.maxBytes > 0 {
		args["x-max-length-bytes"] = cfg.maxBytes
	}
	return warren.Queue{Name: name, Type: "stream", Durable: true, Args: args}
}

// ensureTopic declares topic's stream queue once per Stream (again after
// a loss), so that every event published is stored.
func (s *Stream) ensureTopic(ctx context.Context, topic string, again bool) error {
	err := s.topics.ensure(ctx, topic, again, func() error {
		return declareStream(ctx, s.client, StreamQueue(s.exchange, topic), s.topicTopology(topic))
	})
	if err != nil {
		return fmt.Errorf("events: declare topic %q: %w", topic, err)
	}
	return nil
}

// opContext returns ctx, or a context bounded by the configured timeout.
func opContext(ctx context.Context, cfg *config) (context.Context, context.CancelFunc) {
	if ctx != nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.Background(), cfg.timeout)
}

// Close stops every consumer of the stream (each closes its channel after
// the events it handed out are settled, up to WithShutdownTimeout) and
// waits for them. Later calls to Publish and Consume return ErrClosed. It
// does not close the client.
func (s *Stream) Close() error {
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

func (s *Stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
