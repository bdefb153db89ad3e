package middleware_test

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/warrentest"
)

func TestTimeoutHonouringHandler(t *testing.T) {
	const d = 20 * time.Millisecond
	var cause error
	h := middleware.Timeout(d)(warren.HandlerFunc(func(ctx context.Context, _ *warren.Message) error {
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > d {
			t.Errorf("handler context deadline = %v, %v; want one within %v", dl, ok, d)
		}
		<-ctx.Done()
		cause = context.Cause(ctx)
		return ctx.Err()
	}))
	rec := warrentest.Serve(h, warrentest.NewMessage("a.b", nil))
	if !rec.Retried() {
		t.Fatalf("outcome = %v, want retry", rec.Outcome.Action)
	}
	var te *middleware.TimeoutError
	if !errors.As(rec.Err, &te) || te.Timeout != d {
		t.Fatalf("err = %#v, want *TimeoutError{Timeout: %v}", rec.Err, d)
	}
	if !errors.Is(rec.Err, context.DeadlineExceeded) {
		t.Error("errors.Is(err, context.DeadlineExceeded) = false")
	}
	if !errors.As(cause, &te) {
		t.Errorf("context.Cause in the handler = %v, want the *TimeoutError", cause)
	}
}

func TestTimeoutIgnoringHandlerResultDiscarded(t *testing.T) {
	const d = 10 * time.Millisecond
	for name, result := range map[string]error{
		"nil":       nil,
		"retryable": errors.New("late and failing"),
	} {
		t.Run(name, func(t *testing.T) {
			h := middleware.Timeout(d)(warren.HandlerFunc(func(context.Context, *warren.Message) error {
				time.Sleep(4 * d) // ignores its context
				return result
			}))
			start := time.Now()
			rec := warrentest.Serve(h, warrentest.NewMessage("a.b", nil))
			if el := time.Since(start); el < 4*d {
				t.Errorf("Timeout returned after %v, before the handler did", el)
			}
			var te *middleware.TimeoutError
			if !errors.As(rec.Err, &te) || te.Err != result {
				t.Fatalf("err = %#v, want a *TimeoutError recording %v", rec.Err, result)
			}
			if !rec.Retried() {
				t.Errorf("outcome = %+v, want retry: a late result is discarded", rec.Outcome)
			}
		})
	}
}

func TestTimeoutKeepsLateVerdictsThatRetryCannotChange(t *testing.T) {
	const d = 10 * time.Millisecond
	late := warren.Permanent(errors.New("late and permanent"))
	h := middleware.Timeout(d)(warren.HandlerFunc(func(context.Context, *warren.Message) error {
		time.Sleep(4 * d)
		return late
	}))
	rec := warrentest.Serve(h, warrentest.NewMessage("a.b", nil))
	if reason, ok := rec.DeadLettered(); !ok || reason != warren.ReasonPermanent || rec.Err != late {
		t.Fatalf("outcome %+v, want the late Permanent to stand", rec.Outcome)
	}
}

func TestTimeoutOnTimePassesResultThrough(t *testing.T) {
	want := warren.Permanent(errors.New("bad input"))
	h := middleware.Timeout(time.Hour)(warren.HandlerFunc(func(context.Context, *warren.Message) error { return want }))
	if rec := warrentest.Serve(h, warrentest.NewMessage("a.b", nil)); rec.Err != want {
		t.Errorf("err = %v, want the handler's", rec.Err)
	}
	ok := middleware.Timeout(time.Hour)(warren.HandlerFunc(func(context.Context, *warren.Message) error { return nil }))
	if rec := warrentest.Serve(ok, warrentest.NewMessage("a.b", nil)); !rec.Acked() {
		t.Errorf("outcome = %+v, want ack", rec.Outcome)
	}
}

func TestTimeoutParentDeadlineIsNotOurs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	h := middleware.Timeout(time.Hour)(warren.HandlerFunc(func(ctx context.Context, _ *warren.Message) error {
		<-ctx.Done()
		return ctx.Err()
	}))
	rec := warrentest.ServeContext(ctx, h, warrentest.NewMessage("a.b", nil))
	var te *middleware.TimeoutError
	if errors.As(rec.Err, &te) || !errors.Is(rec.Err, context.DeadlineExceeded) {
		t.Errorf("err = %#v, want the handler's own context.DeadlineExceeded", rec.Err)
	}
}

func TestTimeoutRunsHandlerOnCallerGoroutine(t *testing.T) {
	var stack string
	h := middleware.Timeout(time.Second)(warren.HandlerFunc(func(context.Context, *warren.Message) error {
		stack = string(debug.Stack())
		return nil
	}))
	warrentest.Serve(h, warrentest.NewMessage("a.b", nil))
	if !strings.Contains(stack, "TestTimeoutRunsHandlerOnCallerGoroutine") {
		t.Errorf("handler did not run on the caller's goroutine:\n%s", stack)
	}
}

func TestTimeoutRejectsNonPositive(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "warren/middleware: Timeout") {
			t.Errorf("recover() = %v, want a warren: Timeout panic", r)
		}
	}()
	middleware.Timeout(0)
}
