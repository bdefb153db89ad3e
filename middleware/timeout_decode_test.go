package middleware_test

import (
	"context"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/warrentest"
)

// TestTimeoutKeepsDecodeFailures: Typed promises that a body that does not
// decode is dead-lettered with reason "decode", never retried, also when
// decoding outlasts a Timeout (10 MB of broken JSON under load takes longer
// than a short deadline: the poison corpus met it under -race).
func TestTimeoutKeepsDecodeFailures(t *testing.T) {
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
