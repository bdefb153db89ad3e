// Package retry retries failed messages: in place, holding the worker, with
// exponential backoff (Backoff), and through the broker, with tiered wait
// queues, for delays too long to hold a worker (Policy).
//
// The two compose. Backoff retries a handler a few times within one
// delivery; when it gives up it returns the handler's last error, which
// still asks for a retry (warren.ActionRetry), so the transport's delayed
// Policy takes over, and when that has no attempts left either the message
// is dead-lettered with reason "error":
//
//	r.Use(retry.Backoff(retry.MaxAttempts(3)))                 // in place: 3 calls
//	policy := retry.Delays(5*time.Second, time.Minute)         // then through <queue>.retry.5s, .retry.1m
//
// Errors that retrying cannot fix (warren.Permanent, decode failures, no
// route) and errors that ask for another settlement (warren.Requeue,
// warren.Drop) are never retried in place.
package retry
