package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// Client is a service's link to RabbitMQ: a connection for consuming and
// one for publishing (or one shared, see WithSharedConnection), both
// recovering by themselves, and the confirming publisher built on them.
type Client struct {
	cfg       *config
	consume   *connection
	publish   *connection
	channels  *confirmChannels // handler and application publishes
	copies    *confirmChannels // settlement copies (retry, dead letter), on channels of their own
	publisher *Publisher

	mu        sync.Mutex
	consumers []*Consumer
	closed    bool
	done      chan struct{} // closed with err set: closed or given up
	err       error
}

// Dial connects to the broker at url (amqp:// or amqps://), or to one of
// the nodes of a cluster: url and those of WithEndpoints. It retries the
// first connection with the WithReconnect policy, trying the endpoints in
// turn, until ctx ends (WithDialRetry(false): each endpoint once); the
// error of a Dial that failed has each endpoint's last cause. After that,
// lost connections are recovered in the background, on the next node that
// answers. When recovery gives up, the client is done (see Done).
// Passwords never appear in its errors.
func Dial(ctx context.Context, url string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(cfg)
	}
	endpoints, err := parseEndpoints(url, cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, done: make(chan struct{})}
	if cfg.sharedConnection {
		c.consume, err = dialConnection(ctx, endpoints, 0, cfg.name, cfg, c.onConnectionDone(&c.consume))
		c.publish = c.consume
	} else {
		c.consume, err = dialConnection(ctx, endpoints, 0, cfg.name+".consume", cfg, c.onConnectionDone(&c.consume))
		if err == nil {
			// On the node the consuming connection found up.
			c.publish, err = dialConnection(ctx, endpoints, c.consume.endpointIndex(), cfg.name+".publish", cfg, c.onConnectionDone(&c.publish))
			if err != nil {
				_ = c.consume.close()
			}
		}
	}
	if err != nil {
		return nil, err
	}
	c.channels = newConfirmChannels(c.publish, cfg.publishChannels, cfg)
	// A handler's bad publish (to a missing exchange, say) makes the broker
	// close the channel it went out on, failing every confirm pending
	// there; settlement copies must not share that fate.
	c.copies = newConfirmChannels(c.publish, cfg.publishChannels, cfg)
	c.publisher = &Publisher{channels: c.channels, codec: warren.JSON, keys: map[reflectType]string{}}
	return c, nil
}

// Publisher returns the client's own publisher: Publish to any exchange
// with any key (it has no exchange and no typed keys, so Send fails).
// Handlers publish and reply through it (warren.Publish, warren.Reply). For Send, make a publisher bound
// to one exchange with NewPublisher, or NewEventPublisher for the event
// stream; all of them share the client's publish channels.
func (c *Client) Publisher() *Publisher { return c.publisher }

// NewPublisher returns a publisher for exchange, declaring the exchange
// first (services declare what they use, so they can start in any order).
// It shares the client's publish channels.
func (c *Client) NewPublisher(ctx context.Context, exchange warren.Exchange, opts ...PublisherOption) (*Publisher, error) {
	if exchange.Kind == "" {
		exchange.Kind = warren.KindTopic
	}
	if exchange.Name != "" {
		if err := c.declare(ctx, c.publish, warren.Topology{Exchanges: []warren.Exchange{exchange}}); err != nil {
			return nil, err
		}
	}
	p := &Publisher{channels: c.channels, exchange: exchange.Name, codec: warren.JSON, keys: map[reflectType]string{}}
	for _, o := range opts {
		o.applyPublisher(p)
	}
	return p, nil
}

// NewEventPublisher is NewPublisher for the event stream exchange
// (events.topic.exchange, durable topic).
func (c *Client) NewEventPublisher(ctx context.Context, opts ...PublisherOption) (*Publisher, error) {
	return c.NewPublisher(ctx, warren.Exchange{Name: warren.EventExchange, Kind: warren.KindTopic, Durable: true}, opts...)
}

// Channel opens a channel on the client's consuming connection, waiting for
// a lost connection to recover up to ctx, for uses warren does not cover.
// The caller owns the channel and closes it; it does not survive a
// connection loss.
func (c *Client) Channel(ctx context.Context) (*amqp.Channel, error) {
	ch, _, err := c.consume.channel(ctx)
	return ch, err
}

// ConnectedTo returns the addresses (host:port) of the nodes the consuming
// and the publishing connection are on, or were last on while they
// recover (the same with WithSharedConnection).
func (c *Client) ConnectedTo() (consume, publish string) {
	return c.consume.endpointAddr(), c.publish.endpointAddr()
}

// Name returns the service name the client was dialled with (WithName).
func (c *Client) Name() string { return c.cfg.name }

// Declare declares t on the broker, on a channel of its own.
func (c *Client) Declare(ctx context.Context, t warren.Topology) error {
	return c.declare(ctx, c.consume, t)
}

func (c *Client) declare(ctx context.Context, conn *connection, t warren.Topology) error {
	ch, _, err := conn.channel(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	return declare(ch, t)
}

// Close shuts down the client's consumers (see Consumer.Shutdown), then
// closes its connections, and the client is done (Done, Err). It is safe
// to call more than once, and needed after a give-up too: it waits for the
// client's goroutines.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	consumers := c.consumers
	c.mu.Unlock()
	var errs []error
	for _, cons := range consumers {
		if err := cons.Shutdown(context.Background()); err != nil && !errors.Is(err, errNotRunning) && !errors.Is(err, ErrGaveUp) {
			errs = append(errs, err)
		}
	}
	c.terminate(nil, ErrClosed)
	if c.publish != c.consume {
		errs = append(errs, c.publish.close())
	}
	errs = append(errs, c.consume.close())
	c.channels.wait()
	c.copies.wait()
	return errors.Join(errs...)
}

func (c *Client) register(cons *Consumer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("warren/rabbitmq: new consumer: %w", ErrClosed)
	}
	c.consumers = append(c.consumers, cons)
	return nil
}

// onConnectionDone returns the callback a connection calls when it is done
// for good; *conn is read then, after Dial set it.
func (c *Client) onConnectionDone(conn **connection) func(error) {
	return func(err error) { c.terminate(*conn, err) }
}
