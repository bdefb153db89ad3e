package middleware_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/warrentest"
)

// TestTimeoutKeepsDecodeFailures shows an open conflict between Timeout and
// Typed, skipped unless WARREN_KNOWN_BUGS is set. Typed promises that a body
// that does not decode is dead-lettered with reason "decode", never
// retried; but when decoding outlasts a Timeout (10 MB of broken JSON under
// load takes longer than a short deadline: the poison corpus met it under
// -race), Timeout replaces the *DecodeError with its retryable
// *TimeoutError, so the body is retried (a republish of the whole body per
// attempt) and finally dead-lettered with reason "error". Proposed fix in
// Timeout: return the handler's error unchanged when it dead-letters at
// once (warren.OutcomeOf(err).Action == warren.ActionDeadLetter): retrying a
// permanent failure cannot help.
func TestTimeoutKeepsDecodeFailures(t *testing.T) {
	if os.Getenv("WARREN_KNOWN_BUGS") == "" {
		t.Skip("known bug (set WARREN_KNOWN_BUGS=1 to run): Timeout turns a late decode failure into a retry")
	}
	slowDecode := warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
		<-ctx.Done() // a decode still running at the deadline
		return &warren.DecodeError{ContentType: m.ContentType, Err: context.Cause(ctx)}
	})
	h := middleware.Timeout(time.Millisecond)(slowDecode)
	rec := warrentest.Serve(h, warrentest.NewMessage("Order.Created", []byte(`{"id":`)))
	if reason, ok := rec.DeadLettered(); !ok || reason != warren.ReasonDecode {
		t.Fatalf("outcome %v (reason %q), want dead-lettered with reason %q: %v",
			rec.Outcome.Action, reason, warren.ReasonDecode, rec.Err)
	}
}
