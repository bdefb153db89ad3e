package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// Publisher publishes with publisher confirms. It is safe for concurrent
// use: publishes from many goroutines are pipelined over the client's
// publish channels (a publish does not wait for the previous one's
// confirm), and each caller waits only for its own confirm.
//
// Messages are persistent unless the publishing says otherwise, and get a
// message id and a timestamp when they have none. Publish waits for a lost
// connection to recover, and for broker flow control to lift, up to the
// caller's context (or WithPublishTimeout when it has no deadline), and
// returns by that deadline whatever other publishes do; it never reports
// success for a message the broker did not confirm. Once the client is done
// (Client.Done) every publish fails at once with Client.Err.
type Publisher struct {
	channels *confirmChannels
	exchange string
	codec    warren.Codec
	keys     map[reflectType]string // routing key by type, for Send
	retries  int                    // WithSendRetry
}

// confirmChannels is the client's set of confirm channels, shared by every
// Publisher of the client.
type confirmChannels struct {
	conn     *connection
	observer warren.Observer
	timeout  time.Duration    // WithPublishTimeout
	send     warren.Publisher // confirmAndWait wrapped in the client's publish middleware
	chans    []*confirmChannel
	next     atomic.Uint32
	wg       sync.WaitGroup
}

func newConfirmChannels(conn *connection, n int, cfg *config) *confirmChannels {
	p := &confirmChannels{conn: conn, observer: cfg.observer, timeout: cfg.publishTimeout}
	for i := 0; i < n; i++ {
		p.chans = append(p.chans, newConfirmChannel(conn, &p.wg))
	}
	p.send = cfg.wrapPublish(warren.PublisherFunc(p.publishAndWait))
	return p
}

// publishAndWait publishes on the next channel and waits for the confirm.
func (p *confirmChannels) publishAndWait(ctx context.Context, msg *warren.Publishing) error {
	start := time.Now()
	ctx, cancel := p.bound(ctx)
	defer cancel()
	conf, err := p.publishDeferred(ctx, msg)
	if err == nil {
		err = conf.Wait(ctx)
	}
	p.observer.ObservePublish(warren.PublishEvent{
		Exchange: msg.Exchange, RoutingKey: msg.RoutingKey, Duration: time.Since(start), Err: err,
	})
	return err
}

// bound applies the publish timeout to a context without a deadline.
func (p *confirmChannels) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || p.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, p.timeout)
}

func (p *confirmChannels) publishDeferred(ctx context.Context, msg *warren.Publishing) (*Confirmation, error) {
	if err := checkKey(msg.RoutingKey); err != nil {
		return nil, err
	}
	fillDefaults(&msg.Publishing)
	if err := p.conn.waitUnblocked(ctx); err != nil {
		return nil, err
	}
	cc := p.chans[int(p.next.Add(1))%len(p.chans)]
	return cc.publish(ctx, msg)
}

// wait waits for the channels' listeners, which end when their channels
// close with the connection. Channels are not closed one by one: a publisher
// stuck in a write to a connection the broker blocked holds its channel,
// and a channel close would wait behind it.
func (p *confirmChannels) wait() { p.wg.Wait() }

// PublisherOption configures a Publisher made by Client.NewPublisher.
type PublisherOption interface{ applyPublisher(*Publisher) }

type publisherOptionFunc func(*Publisher)

func (f publisherOptionFunc) applyPublisher(p *Publisher) { f(p) }

// TypeKey maps a Go type to the routing key Send publishes its values
// with. Make one with KeyFor. (Not a route: routes are the patterns a
// Router dispatches by.)
type TypeKey struct {
	typ reflectType
	key string
}

type reflectType = reflect.Type

// KeyFor maps values of type T to routing key key:
// rabbitmq.KeyFor[OrderCreated]("Order.Created").
func KeyFor[T any](key string) TypeKey {
	return TypeKey{typ: reflect.TypeFor[T](), key: key}
}

// WithTypeKeys gives a publisher the routing keys of the types Send
// publishes.
func WithTypeKeys(keys ...TypeKey) PublisherOption {
	return publisherOptionFunc(func(p *Publisher) {
		for _, k := range keys {
			p.keys[k.typ] = k.key
		}
	})
}

// WithCodec makes Send encode values with c instead of JSON.
func WithCodec(c warren.Codec) PublisherOption {
	return publisherOptionFunc(func(p *Publisher) { p.codec = c })
}

// Exchange returns the exchange Send publishes to.
func (p *Publisher) Exchange() string { return p.exchange }

// Send encodes v (JSON by default) and publishes it to the publisher's
// exchange with the routing key mapped to v's type (see Route), waiting for
// the confirm. A type with no route is an error; nothing is published.
func (p *Publisher) Send(ctx context.Context, v any, opts ...func(*amqp.Publishing)) error {
	t := reflect.TypeOf(v)
	key, ok := p.keys[t]
	if !ok && t != nil && t.Kind() == reflect.Pointer {
		key, ok = p.keys[t.Elem()]
	}
	if !ok {
		return fmt.Errorf("warren/rabbitmq: no routing key for type %v: add rabbitmq.KeyFor[%v](key) to the publisher", t, t)
	}
	body, err := p.codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("warren/rabbitmq: encode %v: %w", t, err)
	}
	pub := amqp.Publishing{ContentType: p.codec.ContentType(), Type: key, Body: body}
	for _, o := range opts {
		o(&pub)
	}
	msg := &warren.Publishing{Exchange: p.exchange, RoutingKey: key, Publishing: pub}
	fillDefaults(&msg.Publishing) // one message id for every attempt
	err = p.Publish(ctx, msg)
	for n := 0; n < p.retries && retriable(err) && ctx.Err() == nil; n++ {
		if errors.Is(err, ErrNacked) {
			t := time.NewTimer(nackPause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return err
			}
		}
		err = p.Publish(ctx, msg)
	}
	return err
}

// WithSendRetry makes Send publish a message again, with the same message
// id, up to n times after an error that leaves open whether the broker
// has it, or that says it has not: ErrConfirmLost (the channel or its
// connection closed before the confirm, as when the node dies; the next
// attempt waits for recovery, on another node with WithEndpoints),
// ErrPublishTimeout from WithPublishTimeout while the caller's context
// still runs, and ErrNacked (after a pause). Send returns the last error
// once the attempts or the caller's context are spent. A message may thus
// arrive twice: consumers that must see it once deduplicate by message id
// (middleware/dedupe). The default is 0: no retry.
func WithSendRetry(n int) PublisherOption {
	return publisherOptionFunc(func(p *Publisher) { p.retries = max(n, 0) })
}

// nackPause is the wait before Send retries a publish the broker refused.
const nackPause = 100 * time.Millisecond

// retriable reports whether a Send with WithSendRetry tries err's publish
// again.
func retriable(err error) bool {
	return errors.Is(err, ErrConfirmLost) || errors.Is(err, ErrPublishTimeout) || errors.Is(err, ErrNacked)
}

// Publish publishes msg and waits for the broker's confirm, through the
// client's publish middleware. It implements warren.Publisher: replies,
// retries and dead-letters go through it. It fills in defaults in msg
// (message id, timestamp, persistence).
func (p *Publisher) Publish(ctx context.Context, msg *warren.Publishing) error {
	return p.channels.send.Publish(ctx, msg)
}

// PublishDeferred sends msg and returns without waiting for the confirm,
// so one goroutine can keep many publishes in flight; Wait on the result
// before treating the message as sent. It bypasses the client's publish
// middleware and observer: it is the raw, fast path. The publish timeout
// bounds the send when ctx has no deadline; Wait is bounded by its own
// context only.
func (p *Publisher) PublishDeferred(ctx context.Context, msg *warren.Publishing) (*Confirmation, error) {
	ctx, cancel := p.channels.bound(ctx)
	defer cancel()
	return p.channels.publishDeferred(ctx, msg)
}

// checkKey refuses a routing key AMQP cannot carry: amqp091-go would write
// the frame and the broker close the whole connection for it.
func checkKey(key string) error {
	if len(key) > warren.MaxKeyLength {
		return fmt.Errorf("warren/rabbitmq: routing key of %d bytes: %w", len(key), warren.ErrKeyTooLong)
	}
	return nil
}

func fillDefaults(m *amqp.Publishing) {
	if m.MessageId == "" {
		m.MessageId = warren.NewMessageID()
	}
	if m.Timestamp.IsZero() {
		m.Timestamp = time.Now().UTC().Truncate(time.Second)
	}
	if m.DeliveryMode == 0 {
		m.DeliveryMode = amqp.Persistent
	}
}
