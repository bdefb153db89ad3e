package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/warrentest"
)

func panicking(v any) warren.Handler {
	return warren.HandlerFunc(func(context.Context, *warren.Message) error { panic(v) })
}

func TestRecoverString(t *testing.T) {
	rec := warrentest.Serve(middleware.Recover(panicking("boom")), warrentest.NewMessage("a.b", nil))
	if !rec.Retried() {
		t.Fatalf("outcome = %v, want retry", rec.Outcome.Action)
	}
	var pe *warren.PanicError
	if !errors.As(rec.Err, &pe) {
		t.Fatalf("err = %T %v, want *warren.PanicError", rec.Err, rec.Err)
	}
	if pe.Value != "boom" {
		t.Errorf("panic value = %v, want boom", pe.Value)
	}
	// The stack is the panicking goroutine's: it names the handler that panicked.
	if !strings.Contains(string(pe.Stack), "panicking") || !strings.Contains(string(pe.Stack), "recover_test.go:") {
		t.Errorf("stack does not name the panicking handler:\n%s", pe.Stack)
	}
}

func TestRecoverError(t *testing.T) {
	sentinel := errors.New("db down")
	rec := warrentest.Serve(middleware.Recover(panicking(sentinel)), warrentest.NewMessage("a.b", nil))
	if !rec.Retried() {
		t.Fatalf("outcome = %v, want retry", rec.Outcome.Action)
	}
	var pe *warren.PanicError
	if !errors.As(rec.Err, &pe) || pe.Value != sentinel || len(pe.Stack) == 0 {
		t.Fatalf("err = %#v, want a PanicError carrying the error and a stack", rec.Err)
	}
	if !errors.Is(rec.Err, sentinel) {
		t.Error("errors.Is(err, panic value) = false")
	}
}

func TestRecoverPermanentPanicDeadLetters(t *testing.T) {
	h := middleware.Recover(panicking(warren.Permanent(errors.New("bad"))))
	rec := warrentest.Serve(h, warrentest.NewMessage("a.b", nil))
	if reason, ok := rec.DeadLettered(); !ok || reason != warren.ReasonPermanent {
		t.Fatalf("outcome = %+v, want dead-letter permanent", rec.Outcome)
	}
}

func TestRecoverPassesResultsThrough(t *testing.T) {
	want := errors.New("plain")
	calls := 0
	h := middleware.Recover(warren.HandlerFunc(func(context.Context, *warren.Message) error {
		calls++
		if calls == 1 {
			panic("first")
		}
		if calls == 2 {
			return want
		}
		return nil
	}))
	msg := warrentest.NewMessage("a.b", nil)
	warrentest.Serve(h, msg) // panics inside, the test goroutine survives
	if rec := warrentest.Serve(h, msg); rec.Err != want {
		t.Errorf("err = %v, want the handler's own error", rec.Err)
	}
	if rec := warrentest.Serve(h, msg); !rec.Acked() || rec.Err != nil {
		t.Errorf("outcome = %+v, want ack", rec.Outcome)
	}
}
