package retry

import "context"

type attemptKey struct{}

func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// AttemptFromContext returns the attempt of the current call within one
// delivery under Backoff: 1 for the first call, 2 for the first retry, and
// so on. Outside Backoff it returns 1. It is not msg.Attempt, which counts
// deliveries by the transport (delayed retries included).
//
// The first call runs with the delivery's own context, so the happy path
// allocates nothing; retries add the count to it.
func AttemptFromContext(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}
