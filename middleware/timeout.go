package middleware

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
)

// Timeout gives the handler's context a deadline d from now; a handler still
// running at the deadline fails with a retryable *TimeoutError:
//
//	r := warren.NewRouter()
//	r.Use(middleware.Timeout(30 * time.Second))
//
// Timeout starts no goroutine: the handler runs on the worker's goroutine,
// and Timeout waits for it to return. A handler that honours its context
// returns soon after the deadline; a handler that ignores its context keeps
// its worker (and its prefetched message) busy until it returns, however
// long that takes. Either way, once the handler has returned after the
// deadline its result is discarded, even nil, in favour of the timeout
// error, and the message is retried: work a late handler completed may be
// done again, as always with at-least-once delivery. The exception is a
// result that settles without retrying (a decode failure, Permanent, Drop,
// Requeue): retrying would not change it, so it is returned as it is.
//
// A deadline of the parent context (an outer Timeout, a shutdown) that
// expires first is not this Timeout's: the handler's result is returned
// unchanged and the outer owner decides. Timeout panics if d <= 0.
func Timeout(d time.Duration) warren.Middleware {
	if d <= 0 {
		panic(fmt.Sprintf("warren/middleware: Timeout(%v): the duration must be positive", d))
	}
	cause := &TimeoutError{Timeout: d} // shared and never mutated: the context's cause
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
			tctx, cancel := context.WithTimeoutCause(ctx, d, cause)
			defer cancel()
			err := next.ServeMessage(tctx, msg)
			if context.Cause(tctx) != cause {
				return err // on time, or the parent's deadline or cancellation came first
			}
			if err != nil && warren.OutcomeOf(err).Action != warren.ActionRetry {
				// A verdict that retrying cannot change (a decode failure,
				// Permanent, Drop, Requeue) stands, late or not.
				return err
			}
			return &TimeoutError{Timeout: d, Err: err}
		})
	}
}

// TimeoutError is the error Timeout returns for a handler that overran its
// deadline. It is retryable (warren.OutcomeOf gives ActionRetry) and
// errors.Is(err, context.DeadlineExceeded) holds. It is also the cause of
// the handler's context: context.Cause(ctx) returns it once the deadline
// passed.
type TimeoutError struct {
	// Timeout is the duration the handler was given.
	Timeout time.Duration
	// Err is what the handler returned after the deadline, for logs only:
	// it does not steer settlement (Unwrap does not return it).
	Err error
}

// Error implements error.
func (e *TimeoutError) Error() string {
	if e.Err == nil || errors.Is(e.Err, context.DeadlineExceeded) {
		return fmt.Sprintf("warren/middleware: handler timed out after %v", e.Timeout)
	}
	return fmt.Sprintf("warren/middleware: handler timed out after %v (it returned: %v)", e.Timeout, e.Err)
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }
