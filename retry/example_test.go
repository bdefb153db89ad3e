package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/retry"
	"github.com/warren-mq/warren/warrentest"
)

func ExampleBackoff() {
	calls := 0
	flaky := warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		calls++
		if calls < 3 {
			return errors.New("database busy")
		}
		return nil
	})

	r := warren.NewRouter()
	r.Use(retry.Backoff(retry.MaxAttempts(5), retry.InitialInterval(time.Millisecond)))
	r.Handle("Order.Created", flaky)

	rec := warrentest.Serve(r, warrentest.NewMessage("Order.Created", []byte(`{}`)))
	fmt.Println("acked:", rec.Acked(), "calls:", calls)
	// Output: acked: true calls: 3
}

func ExampleOnRetry() {
	mw := retry.Backoff(
		retry.MaxAttempts(3),
		retry.InitialInterval(10*time.Millisecond),
		retry.Jitter(0),
		retry.OnRetry(func(_ context.Context, msg *warren.Message, attempt int, err error, delay time.Duration) {
			fmt.Printf("%s: attempt %d failed (%v), retrying in %v\n", msg.RoutingKey, attempt, err, delay)
		}),
	)
	h := warren.HandlerFunc(func(context.Context, *warren.Message) error { return errors.New("timeout") })

	rec := warrentest.Serve(mw(h), warrentest.NewMessage("Order.Created", nil))
	fmt.Println("then:", rec.Outcome.Action)
	// Output:
	// Order.Created: attempt 1 failed (timeout), retrying in 10ms
	// Order.Created: attempt 2 failed (timeout), retrying in 20ms
	// then: retry
}

func ExampleAttemptFromContext() {
	h := warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		fmt.Println("call", retry.AttemptFromContext(ctx), "of delivery", msg.Attempt)
		if retry.AttemptFromContext(ctx) < 2 {
			return errors.New("not yet")
		}
		return nil
	})
	warrentest.Serve(retry.Backoff(retry.InitialInterval(time.Millisecond))(h), warrentest.NewMessage("k", nil))
	// Output:
	// call 1 of delivery 1
	// call 2 of delivery 1
}

func ExampleDelays() {
	policy := retry.Delays(5*time.Second, time.Minute, 90*time.Minute)
	for attempt := 1; ; attempt++ {
		delay, ok := policy.Next(attempt)
		if !ok {
			fmt.Printf("attempt %d failed: dead-letter\n", attempt)
			break
		}
		fmt.Printf("attempt %d failed: wait in %s\n", attempt, warren.WaitQueue("orders", delay))
	}
	// Output:
	// attempt 1 failed: wait in orders.retry.5s
	// attempt 2 failed: wait in orders.retry.1m
	// attempt 3 failed: wait in orders.retry.1h30m
	// attempt 4 failed: dead-letter
}
