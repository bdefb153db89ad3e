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
	fixedInterval    bool // WithReconnectInterval: no growth, no jitter
	dialRetry        bool
	writeTimeout     time.Duration
	publishTimeout   time.Duration
	observer         warren.Observer
	onBlocked        func(connection string, blocked bool, reason string)
	sharedConnection bool
	publishChannels  int
	frameMax         int
	publishWrappers  []func(warren.Publisher) warren.Publisher
	endpoints        []string // WithEndpoints, after Dial's URL
	endpointOrder    EndpointOrder
}

func defaultConfig() *config {
	return &config{
		name:            filepath.Base(os.Args[0]),
		heartbeat:       10 * time.Second,
		dialTimeout:     30 * time.Second,
		initialInterval: 100 * time.Millisecond,
		maxInterval:     10 * time.Second,
		dialRetry:       true,
		writeTimeout:    DefaultWriteTimeout,
		publishTimeout:  DefaultPublishTimeout,
		observer:        warren.NopObserver{},
		publishChannels: 1,
	}
}

// newBackoff returns the intervals between dials of one outage (and
// between a consumer's attempts to reopen its channel): exponential from
// initialInterval to maxInterval, jittered +-50%, or a fixed interval
// without jitter (WithReconnectInterval). With maxRetries it stops after
// maxRetries-1 intervals, that is maxRetries attempts.
func (c *config) newBackoff() backoff.BackOff {
	var b backoff.BackOff
	if c.fixedInterval {
		b = backoff.NewConstantBackOff(c.initialInterval)
	} else {
		e := backoff.NewExponentialBackOff()
		e.InitialInterval = c.initialInterval
		e.MaxInterval = c.maxInterval
		e.RandomizationFactor = reconnectJitter
		e.MaxElapsedTime = 0 // bounded by maxRetries, or forever
		e.Reset()
		b = e
	}
	if c.maxRetries > 0 {
		return backoff.WithMaxRetries(b, c.maxRetries-1)
	}
	return b
}

// reconnectJitter is the randomization of the exponential intervals: each
// is drawn from [interval*(1-j), interval*(1+j)].
const reconnectJitter = 0.5

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
// "<name>.consume@<host:port>" and "<name>.publish@<host:port>", and its
// consumers' tags as "<name>.<unique id>". The default is the program's
// name.
func WithName(name string) Option {
	return optionFunc(func(c *config) { c.name = name })
}

// WithTLS sets the TLS configuration for amqps URLs. Dial refuses it with
// an amqp:// URL rather than connect in plain text.
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

// WithReconnect sets the recovery backoff: the first redial of an outage
// is immediate, then the waits between attempts grow exponentially
// (x1.5) from initial to max, each jittered +-50% so that many clients do
// not redial in step. At most maxRetries attempts per outage (0: forever,
// the default); then the client gives up (see Client.Done, ErrGaveUp).
// Defaults: 100ms to 10s, forever. Dial uses the same policy for the first
// connection (see WithDialRetry).
func WithReconnect(initial, max time.Duration, maxRetries int) Option {
	return optionFunc(func(c *config) {
		c.initialInterval, c.maxInterval, c.fixedInterval = initial, max, false
		c.maxRetries = 0
		if maxRetries > 0 {
			c.maxRetries = uint64(maxRetries)
		}
	})
}

// WithReconnectInterval is WithReconnect with a fixed interval: the first
// redial of an outage is immediate, then one every interval exactly (no
// jitter), at most maxRetries attempts per outage (0: forever).
func WithReconnectInterval(interval time.Duration, maxRetries int) Option {
	return optionFunc(func(c *config) {
		c.initialInterval, c.maxInterval, c.fixedInterval = interval, interval, true
		c.maxRetries = 0
		if maxRetries > 0 {
			c.maxRetries = uint64(maxRetries)
		}
	})
}

// WithDialRetry says whether Dial retries the first connection (default
// true): with it, Dial dials with the WithReconnect policy until it
// connects, the policy gives up or Dial's context ends, so a service may
// start before its broker; without it, Dial fails at the first refusal.
// Refused credentials and an unparsable URL fail at once either way. A
// failed Dial's error says how many attempts it made and the last cause.
func WithDialRetry(retry bool) Option {
	return optionFunc(func(c *config) { c.dialRetry = retry })
}

// DefaultPublishTimeout is how long a publish waits for its confirm when
// its context has no deadline (WithPublishTimeout).
const DefaultPublishTimeout = 30 * time.Second

// WithPublishTimeout bounds a publish whose context has no deadline
// (default DefaultPublishTimeout; 0: unbounded): waiting for recovery, for
// flow control, for the send and for the broker's confirm. A publish that
// ran out of time after its message was sent returns ErrPublishTimeout:
// the broker may still have the message and confirm it late, so the
// caller decides whether to publish it again (with the same message id,
// for consumers that deduplicate).
func WithPublishTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.publishTimeout = d })
}

// DefaultWriteTimeout bounds one write to the socket (WithWriteTimeout).
const DefaultWriteTimeout = 15 * time.Second

// WithWriteTimeout bounds each write to the broker's socket (default
// DefaultWriteTimeout; 0: unbounded). A write that stalls longer (the
// broker, or the network, stopped reading) fails the connection, and
// recovery starts; publishes whose frames it carried fail with
// ErrConfirmLost. Their callers do not wait for it: a publish returns by
// its own deadline regardless.
func WithWriteTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.writeTimeout = d })
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
