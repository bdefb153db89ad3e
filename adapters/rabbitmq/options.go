package rabbitmq

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/warren-mq/warren"
)

// Option configures a Client.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	name             string
	tls              *tls.Config
	heartbeat        time.Duration
	dialTimeout      time.Duration
	initialInterval  time.Duration
	maxInterval      time.Duration
	maxRetries       uint64
	observer         warren.Observer
	onBlocked        func(connection string, blocked bool, reason string)
	sharedConnection bool
	publishChannels  int
	frameMax         int
	publishWrappers  []func(warren.Publisher) warren.Publisher
}

func defaultConfig() *config {
	return &config{
		name:            filepath.Base(os.Args[0]),
		heartbeat:       10 * time.Second,
		dialTimeout:     30 * time.Second,
		initialInterval: 100 * time.Millisecond,
		maxInterval:     10 * time.Second,
		observer:        warren.NopObserver{},
		publishChannels: 1,
	}
}

func (c *config) newBackoff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = c.initialInterval
	b.MaxInterval = c.maxInterval
	b.MaxElapsedTime = 0 // bounded by maxRetries, or forever
	b.Reset()
	if c.maxRetries > 0 {
		return backoff.WithMaxRetries(b, c.maxRetries)
	}
	return b
}

// wrapPublish wraps send in the client's publish middleware (WithPublishMiddleware),
// the first one outermost.
func (c *config) wrapPublish(send warren.Publisher) warren.Publisher {
	for i := len(c.publishWrappers) - 1; i >= 0; i-- {
		send = c.publishWrappers[i](send)
	}
	return send
}

// newRestartBackoff paces the restarts of a consumer whose channel keeps
// dying soon after it starts: it doubles from twice the initial interval up
// to the maximum.
func (c *config) newRestartBackoff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 2 * c.initialInterval
	b.Multiplier = 2
	b.RandomizationFactor = 0.2
	b.MaxInterval = c.maxInterval
	b.MaxElapsedTime = 0
	b.Reset()
	return b
}

// WithName names the service: its connections show in the broker as
// "<name>.consume" and "<name>.publish". The default is the program's name.
func WithName(name string) Option {
	return optionFunc(func(c *config) { c.name = name })
}

// WithTLS sets the TLS configuration for amqps URLs.
func WithTLS(cfg *tls.Config) Option {
	return optionFunc(func(c *config) { c.tls = cfg })
}

// WithHeartbeat sets the heartbeat interval (default 10s).
func WithHeartbeat(d time.Duration) Option {
	return optionFunc(func(c *config) { c.heartbeat = d })
}

// WithFrameMax sets the largest AMQP frame the client proposes when it
// connects (default 0: the broker's frame_max). The connection uses the
// smaller of this and the broker's; settlement copies fit their headers to
// the negotiated size.
func WithFrameMax(n int) Option {
	return optionFunc(func(c *config) { c.frameMax = n })
}

// WithDialTimeout bounds one TCP and TLS dial (default 30s).
func WithDialTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.dialTimeout = d })
}

// WithReconnect sets the recovery backoff: exponential from initial to max
// between attempts, at most maxRetries attempts per outage (0: forever,
// the default). Defaults: 100ms to 10s.
func WithReconnect(initial, max time.Duration, maxRetries int) Option {
	return optionFunc(func(c *config) {
		c.initialInterval, c.maxInterval = initial, max
		if maxRetries > 0 {
			c.maxRetries = uint64(maxRetries)
		}
	})
}

// WithObserver reports connection changes, settlements, retries and
// publishes to o (metrics, logs). Use warren.Observers to fan out.
func WithObserver(o warren.Observer) Option {
	return optionFunc(func(c *config) {
		if o != nil {
			c.observer = o
		}
	})
}

// WithBlockedHandler is called when the broker blocks or unblocks a
// connection (flow control, e.g. a memory or disk alarm).
func WithBlockedHandler(fn func(connection string, blocked bool, reason string)) Option {
	return optionFunc(func(c *config) { c.onBlocked = fn })
}

// WithSharedConnection makes consumers and publishers share one connection
// instead of one each. Saves a connection; a publisher blocked by flow
// control then also stalls the consumers' acks.
func WithSharedConnection() Option {
	return optionFunc(func(c *config) { c.sharedConnection = true })
}

// WithPublishChannels sets how many channels the client's publisher spreads
// publishes over (default 1; each channel pipelines its confirms).
func WithPublishChannels(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.publishChannels = n
		}
	})
}

// WithPublishMiddleware wraps every publish of the client's publishers
// (Publish, Send, and the replies, retries and dead-letters the consumer
// makes) in mws, outermost first: tracing.InjectPublisher, for example, so
// every message carries the trace context.
func WithPublishMiddleware(mws ...func(warren.Publisher) warren.Publisher) Option {
	return optionFunc(func(c *config) { c.publishWrappers = append(c.publishWrappers, mws...) })
}
