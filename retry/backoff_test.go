package retry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/retry"
	"github.com/warren-mq/warren/warrentest"
)

// observer records the retry events it sees.
type observer struct {
	warren.NopObserver
	mu      sync.Mutex
	retries []warren.RetryEvent
}

func (o *observer) ObserveRetry(e warren.RetryEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries = append(o.retries, e)
}

func (o *observer) events() []warren.RetryEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]warren.RetryEvent(nil), o.retries...)
}

// failing returns a handler that fails its first n calls with err, then
// succeeds, and records the attempt each call saw.
func failing(n int, err error) (warren.Handler, *[]int) {
	var mu sync.Mutex
	var seen []int
	h := warren.HandlerFunc(func(ctx context.Context, _ *warren.Message) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, retry.AttemptFromContext(ctx))
		if len(seen) <= n {
			return err
		}
		return nil
	})
	return h, &seen
}

func fast(opts ...retry.Option) warren.Middleware {
	base := []retry.Option{retry.InitialInterval(time.Millisecond), retry.MaxInterval(5 * time.Millisecond), retry.Jitter(0)}
	return retry.Backoff(append(base, opts...)...)
}

func TestBackoffFailsTwiceThenSucceeds(t *testing.T) {
	obs := &observer{}
	h, seen := failing(2, errors.New("flaky"))
	msg := warrentest.NewMessage("Order.Created", nil, warrentest.WithQueue("orders"), func(m *warren.Message) { m.Route = "Order.*" })

	rec := warrentest.ServeContext(warren.ContextWithObserver(context.Background(), obs), fast(retry.MaxAttempts(5))(h), msg)

	if !rec.Acked() {
		t.Fatalf("outcome %v (%v), want ack", rec.Outcome.Action, rec.Err)
	}
	if got, want := fmt.Sprint(*seen), "[1 2 3]"; got != want {
		t.Fatalf("attempts seen by the handler %s, want %s", got, want)
	}
	ev := obs.events()
	if len(ev) != 2 {
		t.Fatalf("%d retry events, want 2: %+v", len(ev), ev)
	}
	for i, e := range ev {
		if e.Attempt != i+1 || e.Delayed || e.Queue != "orders" || e.Route != "Order.*" || e.Err == nil || e.Delay <= 0 {
			t.Errorf("event %d = %+v", i, e)
		}
	}
	if msg.Attempt != 1 {
		t.Errorf("msg.Attempt = %d, Backoff must not change it", msg.Attempt)
	}
}

func TestBackoffDoesNotRetryWhatAsksForAnotherSettlement(t *testing.T) {
	cause := errors.New("bad")
	for name, err := range map[string]error{
		"permanent":    warren.Permanent(cause),
		"deadletter":   warren.DeadLetter("custom", cause),
		"decode":       &warren.DecodeError{ContentType: "application/json", Err: cause},
		"no-route":     fmt.Errorf("wrapped: %w", warren.ErrNoRoute),
		"requeue":      warren.Requeue(cause),
		"drop":         warren.Drop(cause),
		"wrapped-perm": fmt.Errorf("ctx: %w", warren.Permanent(cause)),
	} {
		t.Run(name, func(t *testing.T) {
			obs := &observer{}
			h, seen := failing(1, err)
			rec := warrentest.ServeContext(warren.ContextWithObserver(context.Background(), obs), fast(retry.MaxAttempts(5))(h), warrentest.NewMessage("k", nil))
			if len(*seen) != 1 {
				t.Errorf("handler called %d times, want 1", len(*seen))
			}
			if len(obs.events()) != 0 {
				t.Errorf("retry events %+v, want none", obs.events())
			}
			if rec.Err != err {
				t.Errorf("returned %v, want the handler's error unchanged", rec.Err)
			}
		})
	}
}

func TestBackoffExhaustedReturnsLastErrorAsRetry(t *testing.T) {
	obs := &observer{}
	calls := 0
	h := warren.HandlerFunc(func(context.Context, *warren.Message) error {
		calls++
		return fmt.Errorf("failure %d", calls)
	})
	rec := warrentest.ServeContext(warren.ContextWithObserver(context.Background(), obs), fast(retry.MaxAttempts(3))(h), warrentest.NewMessage("k", nil))
	if calls != 3 {
		t.Fatalf("handler called %d times, want 3", calls)
	}
	if !rec.Retried() || rec.Err.Error() != "failure 3" {
		t.Fatalf("outcome %v err %v, want retry with the last error", rec.Outcome.Action, rec.Err)
	}
	if n := len(obs.events()); n != 2 {
		t.Fatalf("%d retry events, want 2", n)
	}
}

func TestBackoffMaxAttemptsOneNeverRetries(t *testing.T) {
	h, seen := failing(1, errors.New("x"))
	rec := warrentest.Serve(fast(retry.MaxAttempts(1))(h), warrentest.NewMessage("k", nil))
	if len(*seen) != 1 || !rec.Retried() {
		t.Fatalf("calls %d outcome %v", len(*seen), rec.Outcome.Action)
	}
}

func TestBackoffRetryableFilter(t *testing.T) {
	transient := errors.New("transient")
	only := retry.Retryable(func(err error) bool { return errors.Is(err, transient) })

	h, seen := failing(1, errors.New("other"))
	warrentest.Serve(fast(only)(h), warrentest.NewMessage("k", nil))
	if len(*seen) != 1 {
		t.Errorf("filter refused the error, yet the handler was called %d times", len(*seen))
	}

	h, seen = failing(1, transient)
	rec := warrentest.Serve(fast(only)(h), warrentest.NewMessage("k", nil))
	if len(*seen) != 2 || !rec.Acked() {
		t.Errorf("filter accepted the error: calls %d outcome %v, want 2 and ack", len(*seen), rec.Outcome.Action)
	}
}

func TestBackoffOnRetryAndIntervals(t *testing.T) {
	var attempts []int
	var delays []time.Duration
	var msgs []*warren.Message
	mw := retry.Backoff(
		retry.MaxAttempts(5),
		retry.InitialInterval(time.Millisecond),
		retry.Multiplier(2),
		retry.MaxInterval(4*time.Millisecond),
		retry.Jitter(0),
		retry.OnRetry(func(_ context.Context, m *warren.Message, attempt int, err error, d time.Duration) {
			if err == nil {
				t.Error("OnRetry without an error")
			}
			attempts = append(attempts, attempt)
			delays = append(delays, d)
			msgs = append(msgs, m)
		}),
	)
	h, _ := failing(10, errors.New("x"))
	msg := warrentest.NewMessage("k", nil)
	warrentest.Serve(mw(h), msg)
	if got, want := fmt.Sprint(attempts), "[1 2 3 4]"; got != want {
		t.Errorf("attempts %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(delays), "[1ms 2ms 4ms 4ms]"; got != want {
		t.Errorf("delays %s, want %s (doubling, capped by MaxInterval)", got, want)
	}
	for _, m := range msgs {
		if m != msg {
			t.Error("OnRetry got another message")
		}
	}
}

func TestBackoffJitterStaysInBounds(t *testing.T) {
	var delays []time.Duration
	mw := retry.Backoff(
		retry.MaxAttempts(50),
		retry.InitialInterval(time.Millisecond),
		retry.Multiplier(1),
		retry.MaxInterval(time.Millisecond),
		retry.Jitter(0.5),
		retry.OnRetry(func(_ context.Context, _ *warren.Message, _ int, _ error, d time.Duration) {
			delays = append(delays, d)
		}),
	)
	h, _ := failing(100, errors.New("x"))
	warrentest.Serve(mw(h), warrentest.NewMessage("k", nil))
	distinct := map[time.Duration]bool{}
	for _, d := range delays {
		if d < 500*time.Microsecond || d > 1500*time.Microsecond+time.Nanosecond {
			t.Errorf("delay %v outside 1ms ±50%%", d)
		}
		distinct[d] = true
	}
	if len(delays) != 49 || len(distinct) < 2 {
		t.Errorf("%d delays, %d distinct: want 49 randomised ones", len(delays), len(distinct))
	}
}

func TestBackoffContextCancelInterruptsWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failure := errors.New("down")
	calls := 0
	h := warren.HandlerFunc(func(context.Context, *warren.Message) error {
		calls++
		time.AfterFunc(20*time.Millisecond, cancel)
		return failure
	})
	mw := retry.Backoff(retry.InitialInterval(time.Hour), retry.MaxInterval(time.Hour), retry.MaxElapsedTime(0), retry.MaxAttempts(3))

	done := make(chan *warrentest.Recorder)
	go func() { done <- warrentest.ServeContext(ctx, mw(h), warrentest.NewMessage("k", nil)) }()
	select {
	case rec := <-done:
		if calls != 1 {
			t.Errorf("handler called %d times, want 1", calls)
		}
		if !errors.Is(rec.Err, context.Canceled) || !errors.Is(rec.Err, failure) {
			t.Errorf("error %v must wrap context.Canceled and the handler's error", rec.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the context did not interrupt a one-hour backoff")
	}
}

func TestBackoffCancelledContextIsNotRetried(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	h := warren.HandlerFunc(func(ctx context.Context, _ *warren.Message) error {
		calls++
		cancel()
		return ctx.Err()
	})
	rec := warrentest.ServeContext(ctx, fast(retry.MaxAttempts(5))(h), warrentest.NewMessage("k", nil))
	if calls != 1 || !errors.Is(rec.Err, context.Canceled) {
		t.Fatalf("calls %d err %v, want 1 call and context.Canceled", calls, rec.Err)
	}
}

func TestBackoffMaxElapsedTime(t *testing.T) {
	calls := 0
	h := warren.HandlerFunc(func(context.Context, *warren.Message) error {
		calls++
		return errors.New("x")
	})
	mw := retry.Backoff(
		retry.MaxAttempts(0),
		retry.MaxElapsedTime(100*time.Millisecond),
		retry.InitialInterval(10*time.Millisecond),
		retry.MaxInterval(10*time.Millisecond),
		retry.Multiplier(1),
		retry.Jitter(0),
	)
	start := time.Now()
	rec := warrentest.Serve(mw(h), warrentest.NewMessage("k", nil))
	elapsed := time.Since(start)
	// Waits of 10ms within 100ms: at most 10 waits, so at most 11 calls.
	if calls < 2 || calls > 11 {
		t.Errorf("handler called %d times, want 2..11 for 10ms waits within 100ms", calls)
	}
	if !rec.Retried() {
		t.Errorf("outcome %v, want retry (the transport takes over)", rec.Outcome.Action)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %v, MaxElapsedTime is 100ms", elapsed)
	}
}

// timeout is a per-attempt timeout middleware, as middleware/ would mount.
func timeout(d time.Duration) warren.Middleware {
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next.ServeMessage(ctx, msg)
		})
	}
}

func TestBackoffMiddlewareInsideAppliesPerAttempt(t *testing.T) {
	calls := 0
	h := warren.HandlerFunc(func(ctx context.Context, _ *warren.Message) error {
		calls++
		if calls == 1 {
			<-ctx.Done() // the first attempt runs into its timeout
			return ctx.Err()
		}
		return ctx.Err() // a fresh timeout: not expired yet
	})
	chain := warren.Chain(fast(retry.MaxAttempts(3)), timeout(50*time.Millisecond))(h)
	rec := warrentest.Serve(chain, warrentest.NewMessage("k", nil))
	if calls != 2 || !rec.Acked() {
		t.Fatalf("calls %d outcome %v (%v), want a second attempt with a fresh timeout, acked", calls, rec.Outcome.Action, rec.Err)
	}
}

func TestBackoffInvalidOptionsPanic(t *testing.T) {
	for name, opts := range map[string][]retry.Option{
		"negative attempts":  {retry.MaxAttempts(-1)},
		"unbounded":          {retry.MaxAttempts(0), retry.MaxElapsedTime(0)},
		"negative elapsed":   {retry.MaxElapsedTime(-time.Second)},
		"negative interval":  {retry.InitialInterval(-time.Second)},
		"max below initial":  {retry.InitialInterval(time.Second), retry.MaxInterval(time.Millisecond)},
		"multiplier below 1": {retry.Multiplier(0.5)},
		"jitter above 1":     {retry.Jitter(1.5)},
		"nil retryable":      {retry.Retryable(nil)},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Fatal("no panic")
				}
			}()
			retry.Backoff(opts...)
		})
	}
}

func TestAttemptFromContextOutsideBackoff(t *testing.T) {
	if n := retry.AttemptFromContext(context.Background()); n != 1 {
		t.Fatalf("AttemptFromContext = %d outside Backoff, want 1", n)
	}
}

func TestIsRetryable(t *testing.T) {
	if retry.IsRetryable(nil) {
		t.Error("nil is retryable")
	}
	if !retry.IsRetryable(errors.New("x")) {
		t.Error("a plain error is not retryable")
	}
	if retry.IsRetryable(warren.Permanent(errors.New("x"))) {
		t.Error("Permanent is retryable")
	}
}
