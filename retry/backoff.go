package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/warren-mq/warren"
)

// Backoff returns a middleware that retries a failed handler in place, with
// exponential backoff (cenkalti/backoff/v4), before the transport settles
// the message:
//
//	r.Use(retry.Backoff(retry.MaxAttempts(4), retry.InitialInterval(50*time.Millisecond)))
//
// Each attempt calls the next handler again with the delivery's context, so
// a middleware mounted inside Backoff (a timeout, say) applies per attempt.
// Only errors the Retryable filter accepts are retried (by default those
// whose warren.OutcomeOf is ActionRetry); any other result is returned at
// once. Every retry is reported to warren.ObserverFromContext(ctx) as a
// RetryEvent with Delayed false and Attempt the in-process attempt that
// failed (1 for the first call), and to the OnRetry hook.
//
// When the attempts or the elapsed time run out, Backoff returns the
// handler's last error unchanged: it still asks for a retry, so the
// transport's delayed-retry policy takes over, or, with none left, the
// message is dead-lettered with reason "error".
//
// A cancelled context (the transport shutting down) interrupts the wait
// between attempts: Backoff then returns at once with an error that wraps
// both ctx.Err() and the last error, and the transport requeues the
// message.
//
// The handler's attempt within this delivery is AttemptFromContext(ctx);
// msg.Attempt counts deliveries and is not changed by Backoff.
//
// Backoff panics on an invalid configuration (a negative count or
// interval, a multiplier below 1, a jitter outside [0, 1], or no bound on
// both the attempts and the elapsed time).
func Backoff(opts ...Option) warren.Middleware {
	cfg := newConfig(opts)
	return func(next warren.Handler) warren.Handler {
		return &backoffHandler{next: next, cfg: cfg}
	}
}

type backoffHandler struct {
	next warren.Handler
	cfg  *config
}

// ServeMessage implements warren.Handler.
func (h *backoffHandler) ServeMessage(ctx context.Context, msg *warren.Message) error {
	start := time.Now()
	err := h.next.ServeMessage(ctx, msg)
	if err == nil || !h.cfg.retryable(err) {
		return err
	}
	return h.retry(ctx, msg, start, err)
}

// retry runs the attempts after the first failed one; it allocates only on
// this, the failure path.
func (h *backoffHandler) retry(ctx context.Context, msg *warren.Message, start time.Time, err error) error {
	c := h.cfg
	b := &backoff.ExponentialBackOff{
		InitialInterval:     c.initial,
		RandomizationFactor: c.jitter,
		Multiplier:          c.multiplier,
		MaxInterval:         c.maxInterval,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	b.Reset()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for attempt := 1; c.maxAttempts == 0 || attempt < c.maxAttempts; attempt++ {
		if ctx.Err() != nil {
			return interrupted(ctx, attempt, err)
		}
		delay := b.NextBackOff()
		if c.maxElapsed > 0 && time.Since(start)+delay > c.maxElapsed {
			return err
		}
		h.report(ctx, msg, attempt, err, delay)
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return interrupted(ctx, attempt, err)
		case <-timer.C:
		}
		err = h.next.ServeMessage(withAttempt(ctx, attempt+1), msg)
		if err == nil || !c.retryable(err) {
			return err
		}
	}
	return err
}

func (h *backoffHandler) report(ctx context.Context, msg *warren.Message, attempt int, err error, delay time.Duration) {
	warren.ObserverFromContext(ctx).ObserveRetry(warren.RetryEvent{
		Queue:   msg.Queue,
		Route:   msg.Route,
		Attempt: attempt,
		Delay:   delay,
		Err:     err,
	})
	if h.cfg.onRetry != nil {
		h.cfg.onRetry(ctx, msg, attempt, err, delay)
	}
}

// interrupted is the error returned when ctx ends while attempts are left:
// errors.Is finds both ctx.Err() and the handler's last error in it.
func interrupted(ctx context.Context, attempt int, last error) error {
	return fmt.Errorf("warren/retry: interrupted after attempt %d: %w (last error: %w)", attempt, ctx.Err(), last)
}
