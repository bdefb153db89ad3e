package events

import (
	"context"
	"time"
)

// Option configures a Stream or a Store (NewStream, NewStore).
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	name       string
	maxAge     time.Duration
	maxBytes   int64
	timeout    time.Duration
	shutdown   time.Duration
	defaultTTL time.Duration
	onError    func(error)
}

func defaultConfig() *config {
	return &config{
		name:       "events",
		maxAge:     7 * 24 * time.Hour,
		timeout:    30 * time.Second,
		shutdown:   5 * time.Second,
		defaultTTL: 24 * time.Hour,
		onError:    func(error) {},
	}
}

// WithName names the stream or store (default "events"). A Stream uses the
// exchange "<name>.topic.exchange" (so the default interoperates with the
// event stream warren routers consume); a Store keeps topic t in the stream
// queue "<name>.store.<t>".
func WithName(name string) Option {
	return optionFunc(func(c *config) { c.name = name })
}

// WithRetention sets how long the stream queues keep events (x-max-age,
// default 7 days; 0 keeps them until maxBytes) and how many bytes each
// may hold (x-max-length-bytes, default 0: no size limit). Both are queue
// arguments: every process must declare the same ones, or the broker
// refuses the declaration with a *rabbitmq.TopologyError.
func WithRetention(maxAge time.Duration, maxBytes int64) Option {
	return optionFunc(func(c *config) { c.maxAge, c.maxBytes = maxAge, maxBytes })
}

// WithTimeout bounds each Publish, Read and Write that is not given a
// context with WithContext, and each declaration (default 30s).
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithShutdownTimeout bounds how long a stopping consumer waits for the
// events it handed out to be acked or nacked before it closes its channel
// (default 5s).
func WithShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d >= 0 {
			c.shutdown = d
		}
	})
}

// WithDefaultTTL sets the TTL of events a Store writes without WithTTL
// (default 24h, as go-micro's store; 0 keeps them until retention drops
// them).
func WithDefaultTTL(d time.Duration) Option {
	return optionFunc(func(c *config) { c.defaultTTL = d })
}

// WithErrorHandler receives the errors that have no caller to return to:
// a consumer's lost channel and its restart, a failed dead-letter publish.
// The default drops them.
func WithErrorHandler(fn func(error)) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.onError = fn
		}
	})
}

// PublishOption configures one Publish.
type PublishOption interface{ applyPublish(*publishOptions) }

type publishOptions struct {
	ctx       context.Context
	metadata  map[string]string
	timestamp time.Time
}

type publishOptionFunc func(*publishOptions)

func (f publishOptionFunc) applyPublish(o *publishOptions) { f(o) }

// WithMetadata attaches metadata to the event; each pair becomes an AMQP
// header. Keys must be valid UTF-8 of at most 255 bytes and must not use a
// reserved prefix (see ErrReservedMetadata).
func WithMetadata(md map[string]string) PublishOption {
	return publishOptionFunc(func(o *publishOptions) { o.metadata = md })
}

// WithTimestamp sets the event's Timestamp (default: the time of Publish).
// It does not move the event in the stream: WithOffset replays by the time
// the event was published, not by this timestamp.
func WithTimestamp(t time.Time) PublishOption {
	return publishOptionFunc(func(o *publishOptions) { o.timestamp = t })
}

// ConsumeOption configures one Consume.
type ConsumeOption interface{ applyConsume(*consumeOptions) }

type consumeOptions struct {
	ctx        context.Context
	group      string
	offset     time.Time
	autoAck    bool
	ackWait    time.Duration
	retryLimit int
	prefetch   int
}

type consumeOptionFunc func(*consumeOptions)

func (f consumeOptionFunc) applyConsume(o *consumeOptions) { f(o) }

// WithGroup makes the consumer a member of group: consumers of a topic in
// the same group share its events, each event going to one of them. The
// group's queue is durable: events published while every member is down
// wait for them. Group names must not contain '.'.
func WithGroup(group string) ConsumeOption {
	return consumeOptionFunc(func(o *consumeOptions) { o.group = group })
}

// WithOffset replays the topic from t: the consumer gets every retained
// event published at or after t, then the live ones. It cannot be combined
// with WithGroup (see the package documentation).
func WithOffset(t time.Time) ConsumeOption {
	return consumeOptionFunc(func(o *consumeOptions) { o.offset = t })
}

// WithAutoAck chooses between automatic acknowledgement (true, the
// default: an event counts as handled once it is received from the
// channel) and manual mode (false): each event must be acked with
// Event.Ack; one not acked within ackWait (default 30s) is redelivered,
// and Event.Nack redelivers at once.
func WithAutoAck(autoAck bool, ackWait time.Duration) ConsumeOption {
	return consumeOptionFunc(func(o *consumeOptions) { o.autoAck, o.ackWait = autoAck, ackWait })
}

// WithRetryLimit bounds redeliveries in manual mode: an event nacked or
// not acked in time after n redeliveries (n+1 deliveries) is moved to the
// dead-letter queue instead. -1, the default, redelivers forever; 0 dead-
// letters on the first nack.
func WithRetryLimit(n int) ConsumeOption {
	return consumeOptionFunc(func(o *consumeOptions) { o.retryLimit = n })
}

// WithPrefetch sets how many events the broker sends ahead of the
// consumer (basic.qos, default 128); in manual mode it also bounds the
// events handed out and not yet acked.
func WithPrefetch(n int) ConsumeOption {
	return consumeOptionFunc(func(o *consumeOptions) { o.prefetch = n })
}

// ReadOption configures one Store.Read.
type ReadOption interface{ applyRead(*readOptions) }

type readOptions struct {
	ctx    context.Context
	limit  uint
	offset uint
}

type readOptionFunc func(*readOptions)

func (f readOptionFunc) applyRead(o *readOptions) { f(o) }

// ReadLimit returns at most n events (default 250; 0 means no limit).
func ReadLimit(n uint) ReadOption {
	return readOptionFunc(func(o *readOptions) { o.limit = n })
}

// ReadOffset skips the first n unexpired events.
func ReadOffset(n uint) ReadOption {
	return readOptionFunc(func(o *readOptions) { o.offset = n })
}

// WriteOption configures one Store.Write.
type WriteOption interface{ applyWrite(*writeOptions) }

type writeOptions struct {
	ctx context.Context
	ttl time.Duration
	set bool
}

type writeOptionFunc func(*writeOptions)

func (f writeOptionFunc) applyWrite(o *writeOptions) { f(o) }

// WithTTL makes the event expire d after it is written: Read no longer
// returns it. 0 keeps it until the store's retention drops it.
func WithTTL(d time.Duration) WriteOption {
	return writeOptionFunc(func(o *writeOptions) { o.ttl, o.set = d, true })
}

// ContextOption is an option of every operation: see WithContext.
type ContextOption struct{ ctx context.Context }

// WithContext gives an operation a context. For Publish, Read and Write it
// bounds the call (instead of the WithTimeout default). For Consume it
// bounds the consumer's life: when ctx ends the consumer stops and closes
// its channel.
func WithContext(ctx context.Context) ContextOption { return ContextOption{ctx: ctx} }

func (c ContextOption) applyPublish(o *publishOptions) { o.ctx = c.ctx }
func (c ContextOption) applyConsume(o *consumeOptions) { o.ctx = c.ctx }
func (c ContextOption) applyRead(o *readOptions)       { o.ctx = c.ctx }
func (c ContextOption) applyWrite(o *writeOptions)     { o.ctx = c.ctx }
