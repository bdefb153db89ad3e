package events

import (
	"context"
	"time"
)

// The option types follow go-micro's events package (a struct per
// operation and a func(*XOptions) per option, same names and fields), so
// that go-micro code compiles against this package; they are the one
// option style of the package.

// Options configures a RabbitStream or a RabbitStore (NewStream,
// NewStore). Set it with the With... functions below.
type Options struct {
	// Name names the stream or store (default "events"). A stream uses
	// the exchange "<Name>.topic.exchange" (so the default interoperates
	// with the event stream warren routers consume); a store keeps topic
	// t in the stream queue "<Name>.store.<t>".
	Name string
	// MaxAge and MaxBytes are the stream queues' retention (x-max-age,
	// default 7 days, 0 = until MaxBytes; x-max-length-bytes, default 0 =
	// no size limit).
	MaxAge   time.Duration
	MaxBytes int64
	// Timeout bounds each Publish, Read and Write given no context, and
	// each declaration (default 30s).
	Timeout time.Duration
	// ShutdownTimeout bounds how long a stopping consumer waits for the
	// events it handed out to be settled (default 5s).
	ShutdownTimeout time.Duration
	// ErrorHandler receives the errors that have no caller to return to.
	ErrorHandler func(error)
	// TTL is a store's default for Write without WithTTL (default 24h, as
	// go-micro's store; 0 = until retention drops the event).
	TTL time.Duration
	// Backup is go-micro's store snapshot hook. It has no equivalent here
	// (see Backup): NewStore refuses a non-nil Backup.
	Backup Backup
}

// Option sets a field of Options.
type Option func(o *Options)

// StoreOptions is go-micro's name for the options of NewStore: the same
// Options (a store reads Name, MaxAge, MaxBytes, Timeout, TTL and Backup).
type StoreOptions = Options

// StoreOption is go-micro's name for an option of NewStore.
type StoreOption = Option

func defaultOptions() *Options {
	return &Options{
		Name:            "events",
		MaxAge:          7 * 24 * time.Hour,
		Timeout:         30 * time.Second,
		ShutdownTimeout: 5 * time.Second,
		TTL:             24 * time.Hour,
		ErrorHandler:    func(error) {},
	}
}

// NewOptions returns the defaults with opts applied, as go-micro's
// NewOptions does.
func NewOptions(opts ...Option) *Options {
	o := defaultOptions()
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithName names the stream or store (default "events"); see Options.Name.
func WithName(name string) Option {
	return func(o *Options) { o.Name = name }
}

// WithRetention sets how long the stream queues keep events (x-max-age,
// default 7 days; 0 keeps them until maxBytes) and how many bytes each
// may hold (x-max-length-bytes, default 0: no size limit). Both are queue
// arguments: every process must declare the same ones, or the broker
// refuses the declaration with a *rabbitmq.TopologyError.
func WithRetention(maxAge time.Duration, maxBytes int64) Option {
	return func(o *Options) { o.MaxAge, o.MaxBytes = maxAge, maxBytes }
}

// WithTimeout bounds each Publish, Read and Write that is not given a
// context, and each declaration (default 30s).
func WithTimeout(d time.Duration) Option {
	return func(o *Options) {
		if d > 0 {
			o.Timeout = d
		}
	}
}

// WithShutdownTimeout bounds how long a stopping consumer waits for the
// events it handed out to be acked or nacked before it closes its channel
// (default 5s).
func WithShutdownTimeout(d time.Duration) Option {
	return func(o *Options) {
		if d >= 0 {
			o.ShutdownTimeout = d
		}
	}
}

// WithDefaultTTL sets the TTL of events a store writes without WithTTL
// (default 24h, as go-micro's store; 0 keeps them until retention drops
// them).
func WithDefaultTTL(d time.Duration) Option {
	return func(o *Options) { o.TTL = d }
}

// WithErrorHandler receives the errors that have no caller to return to:
// a consumer's lost channel and its restart, a failed dead-letter publish.
// The default drops them.
func WithErrorHandler(fn func(error)) Option {
	return func(o *Options) {
		if fn != nil {
			o.ErrorHandler = fn
		}
	}
}

// PublishOptions configures one Publish.
type PublishOptions struct {
	// Metadata becomes the event's AMQP headers (see WithMetadata).
	Metadata map[string]string
	// Timestamp is the event's time; zero means the time of Publish.
	Timestamp time.Time
	// Context bounds the call; nil means Options.Timeout.
	Context context.Context
}

// PublishOption sets a field of PublishOptions.
type PublishOption func(o *PublishOptions)

// WithMetadata attaches metadata to the event; each pair becomes an AMQP
// header. Keys must be valid UTF-8 of at most 255 bytes and must not use a
// reserved prefix (see ErrReservedMetadata).
func WithMetadata(md map[string]string) PublishOption {
	return func(o *PublishOptions) { o.Metadata = md }
}

// WithTimestamp sets the event's Timestamp (default: the time of Publish).
// It does not move the event in the stream: WithOffset replays by the time
// the event was published, not by this timestamp.
func WithTimestamp(t time.Time) PublishOption {
	return func(o *PublishOptions) { o.Timestamp = t }
}

// PublishContext bounds one Publish by ctx instead of Options.Timeout.
func PublishContext(ctx context.Context) PublishOption {
	return func(o *PublishOptions) { o.Context = ctx }
}

// ConsumeOptions configures one Consume.
type ConsumeOptions struct {
	// Offset replays the topic from this time (see WithOffset).
	Offset time.Time
	// Group makes the consumer a member of a group (see WithGroup).
	Group string
	// AckWait is how long a manual-mode event may stay unsettled before
	// it is redelivered (0 means 30s).
	AckWait time.Duration
	// RetryLimit is the number of redeliveries allowed when CustomRetries
	// is set (see GetRetryLimit).
	RetryLimit int
	// AutoAck, true by default, settles every event once it is received;
	// false asks for Event.Ack or Event.Nack.
	AutoAck bool
	// CustomRetries says that RetryLimit was set.
	CustomRetries bool
	// Prefetch bounds the events sent ahead of the consumer (basic.qos,
	// default 128) and, in manual mode, those handed out and unsettled.
	Prefetch int
	// Context bounds the consumer's life: when it ends, the consumer stops
	// and closes its channel.
	Context context.Context
}

// GetRetryLimit returns RetryLimit if it was set with WithRetryLimit, and
// -1 (redeliver forever) otherwise.
func (o ConsumeOptions) GetRetryLimit() int {
	if !o.CustomRetries {
		return -1
	}
	return o.RetryLimit
}

// ConsumeOption sets a field of ConsumeOptions.
type ConsumeOption func(o *ConsumeOptions)

// WithGroup makes the consumer a member of group: consumers of a topic in
// the same group share its events, each event going to one of them. The
// group's queue is durable: events published while every member is down
// wait for them. Group names must not contain '.'.
func WithGroup(group string) ConsumeOption {
	return func(o *ConsumeOptions) { o.Group = group }
}

// WithOffset replays the topic from t: the consumer gets every retained
// event published at or after t, then the live ones. Consume refuses it
// with WithGroup (ErrGroupOffset; the package README says why).
func WithOffset(t time.Time) ConsumeOption {
	return func(o *ConsumeOptions) { o.Offset = t }
}

// WithAutoAck chooses between automatic acknowledgement (true, the
// default: an event counts as handled once it is received from the
// channel) and manual mode (false): each event must be acked with
// Event.Ack; one not acked within ackWait (0 means 30s) is redelivered,
// and Event.Nack redelivers at once.
func WithAutoAck(autoAck bool, ackWait time.Duration) ConsumeOption {
	return func(o *ConsumeOptions) { o.AutoAck, o.AckWait = autoAck, ackWait }
}

// WithRetryLimit bounds redeliveries in manual mode: an event nacked or
// not acked in time after n redeliveries (n+1 deliveries) is moved to the
// dead-letter queue instead. -1, the default, redelivers forever; 0 dead-
// letters on the first nack.
func WithRetryLimit(n int) ConsumeOption {
	return func(o *ConsumeOptions) { o.RetryLimit, o.CustomRetries = n, true }
}

// WithPrefetch sets how many events the broker sends ahead of the
// consumer (basic.qos, default 128); in manual mode it also bounds the
// events handed out and not yet acked.
func WithPrefetch(n int) ConsumeOption {
	return func(o *ConsumeOptions) { o.Prefetch = n }
}

// ConsumeContext bounds the consumer's life by ctx: when ctx ends, the
// consumer stops and closes its channel.
func ConsumeContext(ctx context.Context) ConsumeOption {
	return func(o *ConsumeOptions) { o.Context = ctx }
}

// ReadOptions configures one Store.Read.
type ReadOptions struct {
	// Limit is the most events returned (default 250; 0 = no limit).
	Limit uint
	// Offset skips the first Offset unexpired events.
	Offset uint
	// Context bounds the call; nil means Options.Timeout.
	Context context.Context
}

// ReadOption sets a field of ReadOptions.
type ReadOption func(o *ReadOptions)

// ReadLimit returns at most n events (default 250; 0 means no limit).
func ReadLimit(n uint) ReadOption {
	return func(o *ReadOptions) { o.Limit = n }
}

// ReadOffset skips the first n unexpired events.
func ReadOffset(n uint) ReadOption {
	return func(o *ReadOptions) { o.Offset = n }
}

// ReadContext bounds one Read by ctx instead of Options.Timeout.
func ReadContext(ctx context.Context) ReadOption {
	return func(o *ReadOptions) { o.Context = ctx }
}

// WriteOptions configures one Store.Write.
type WriteOptions struct {
	// TTL is how long after the write Read returns the event (0 = until
	// the store's retention drops it).
	TTL time.Duration
	// Context bounds the call; nil means Options.Timeout.
	Context context.Context
}

// WriteOption sets a field of WriteOptions.
type WriteOption func(o *WriteOptions)

// WithTTL makes the event expire d after it is written: Read no longer
// returns it. 0 keeps it until the store's retention drops it.
func WithTTL(d time.Duration) WriteOption {
	return func(o *WriteOptions) { o.TTL = d }
}

// WriteContext bounds one Write by ctx instead of Options.Timeout.
func WriteContext(ctx context.Context) WriteOption {
	return func(o *WriteOptions) { o.Context = ctx }
}
