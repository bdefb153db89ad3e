package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
)

// Option configures Backoff.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults of Backoff: three calls in all, 100ms then 200ms apart (±20%),
// never longer than 30s from the first call.
const (
	DefaultMaxAttempts     = 3
	DefaultInitialInterval = 100 * time.Millisecond
	DefaultMaxInterval     = 10 * time.Second
	DefaultMultiplier      = 2.0
	DefaultJitter          = 0.2
	DefaultMaxElapsedTime  = 30 * time.Second
)

type config struct {
	maxAttempts int
	initial     time.Duration
	maxInterval time.Duration
	multiplier  float64
	jitter      float64
	maxElapsed  time.Duration
	retryable   func(error) bool
	onRetry     func(ctx context.Context, msg *warren.Message, attempt int, err error, delay time.Duration)
}

func newConfig(opts []Option) *config {
	c := &config{
		maxAttempts: DefaultMaxAttempts,
		initial:     DefaultInitialInterval,
		maxInterval: DefaultMaxInterval,
		multiplier:  DefaultMultiplier,
		jitter:      DefaultJitter,
		maxElapsed:  DefaultMaxElapsedTime,
		retryable:   IsRetryable,
	}
	for _, o := range opts {
		o.apply(c)
	}
	if err := c.validate(); err != nil {
		panic("warren: retry.Backoff: " + err.Error())
	}
	return c
}

func (c *config) validate() error {
	switch {
	case c.maxAttempts < 0:
		return fmt.Errorf("MaxAttempts(%d) is negative", c.maxAttempts)
	case c.maxElapsed < 0:
		return fmt.Errorf("MaxElapsedTime(%v) is negative", c.maxElapsed)
	case c.maxAttempts == 0 && c.maxElapsed == 0:
		return fmt.Errorf("MaxAttempts(0) and MaxElapsedTime(0) together retry forever")
	case c.initial < 0:
		return fmt.Errorf("InitialInterval(%v) is negative", c.initial)
	case c.maxInterval < c.initial:
		return fmt.Errorf("MaxInterval(%v) is shorter than InitialInterval(%v)", c.maxInterval, c.initial)
	case c.multiplier < 1:
		return fmt.Errorf("Multiplier(%v) is below 1", c.multiplier)
	case c.jitter < 0 || c.jitter > 1:
		return fmt.Errorf("Jitter(%v) is outside [0, 1]", c.jitter)
	case c.retryable == nil:
		return fmt.Errorf("Retryable(nil)")
	}
	return nil
}

// MaxAttempts bounds the calls of the handler for one delivery, the first
// included: MaxAttempts(3) retries twice. 0 means no bound on the count
// (MaxElapsedTime must then bound the time). Default 3.
func MaxAttempts(n int) Option {
	return optionFunc(func(c *config) { c.maxAttempts = n })
}

// InitialInterval is the wait before the first retry. Default 100ms.
func InitialInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.initial = d })
}

// MaxInterval caps the wait between two attempts, before jitter. Default 10s.
func MaxInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxInterval = d })
}

// Multiplier grows the wait after each retry: interval(n+1) =
// interval(n) * m, up to MaxInterval. It must be at least 1. Default 2.
func Multiplier(m float64) Option {
	return optionFunc(func(c *config) { c.multiplier = m })
}

// Jitter randomises each wait by up to ±f of itself (the randomization
// factor of cenkalti/backoff), so that messages that failed together do not
// retry together. f is in [0, 1]; 0 makes the waits exact. Default 0.2.
func Jitter(f float64) Option {
	return optionFunc(func(c *config) { c.jitter = f })
}

// MaxElapsedTime stops retrying when the next attempt would start later
// than d after the first one started. 0 means no bound on the time
// (MaxAttempts must then bound the count). Default 30s.
func MaxElapsedTime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxElapsed = d })
}

// Retryable decides which errors are retried in place. The default,
// IsRetryable, retries exactly the errors that ask for a retry.
func Retryable(fn func(err error) bool) Option {
	return optionFunc(func(c *config) { c.retryable = fn })
}

// OnRetry calls fn before each wait, with the attempt that failed (1 for
// the first call), its error and the wait ahead. fn runs on the worker: keep
// it fast. Every retry is also reported to the context's warren.Observer.
func OnRetry(fn func(ctx context.Context, msg *warren.Message, attempt int, err error, delay time.Duration)) Option {
	return optionFunc(func(c *config) { c.onRetry = fn })
}

// IsRetryable reports whether err asks for a retry: whether
// warren.OutcomeOf(err) is warren.ActionRetry. Errors marked Permanent,
// DeadLetter, Requeue or Drop, decode failures and ErrNoRoute are not
// retryable.
func IsRetryable(err error) bool {
	return err != nil && warren.OutcomeOf(err).Action == warren.ActionRetry
}
