package deadletter_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/fuzztable"
)

// warrenHeaders are the headers Headers and RetryHeaders write; every
// other header of a copy is the message's own.
var warrenHeaders = map[string]bool{
	warren.HeaderExceptionMessage: true, warren.HeaderExceptionStacktrace: true,
	warren.HeaderOriginalExchange: true, warren.HeaderOriginalRoutingKey: true,
	warren.HeaderAttempt: true, warren.HeaderRoute: true, warren.HeaderQueue: true,
	warren.HeaderReason: true, warren.HeaderFailedAt: true,
}

// FuzzHeaders builds dead-letter and retry headers for arbitrary messages
// (headers of every AMQP type, nested; fields of any length, as a hostile
// x-original-routingKey makes them) and errors (plain, panics with
// stacks, none): the result is a valid AMQP table with short keys; every
// value warren writes has its type and is at most warren.MaxHeaderValue
// bytes (valid UTF-8 stays valid); the message's own headers are kept
// as they were; and the message is not modified.
func FuzzHeaders(f *testing.F) {
	seeds := []struct {
		headers                                   amqp.Table
		exchange, key, pattern, queue, reason, em string
		attempt                                   int
		panicked                                  bool
	}{
		{amqp.Table{"tenant": "acme"}, "events.topic.exchange", "Order.Created", "Order.*", "orders", "error", "db down", 1, false},
		{amqp.Table{"x-death": []any{amqp.Table{"count": int64(2), "queue": "orders.retry.5s"}}, warren.HeaderReason: "stale"},
			"", "orders", "", "orders", "no-route", "", 3, false},
		{amqp.Table{warren.HeaderExceptionStacktrace: "old stack"}, "ex", "k", "#", "q", "permanent",
			"dial amqp://user:secret@host:5672/: refused", 1 << 20, true},
		{nil, strings.Repeat("e", 300), strings.Repeat("k", 5000), "a.#", strings.Repeat("q", 255),
			strings.Repeat("r", 5000), strings.Repeat("é", 3000), -7, true},
		{amqp.Table{"deep": amqp.Table{"a": []any{amqp.Table{"b": []byte{0xff}}}}}, "\xff", "\xc3", "*", "", "", "\xe2\x82", 0, false},
	}
	for _, s := range seeds {
		f.Add(fuzztable.Encode(s.headers), s.exchange, s.key, s.pattern, s.queue, s.reason, s.em, s.attempt, s.panicked, []byte("goroutine 1 [running]:\nmain.main()"))
	}
	now := time.Date(2024, 5, 6, 7, 8, 9, 500, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, exchange, key, pattern, queue, reason, errMsg string, attempt int, panicked bool, stack []byte) {
		in := fuzztable.Table(data)
		msg := &warren.Message{Headers: in, Exchange: exchange, RoutingKey: key, Route: pattern, Queue: queue, Attempt: attempt, Body: data}
		var err error
		switch {
		case panicked:
			err = fmt.Errorf("wrapped: %w", &warren.PanicError{Value: errMsg, Stack: stack})
		case errMsg != "":
			err = errors.New(errMsg)
		}
		before := fmt.Sprint(msg.Headers)

		dead := deadletter.Headers(msg, reason, err, now)
		checkCopyHeaders(t, msg, in, dead, err, int64(attempt))
		if dead[warren.HeaderReason] != warren.BoundedString(reason, warren.MaxHeaderValue) {
			t.Fatalf("reason %q, want %q", dead[warren.HeaderReason], reason)
		}
		retry := deadletter.RetryHeaders(msg, err, now)
		checkCopyHeaders(t, msg, in, retry, err, int64(attempt)+1)
		if _, ok := retry[warren.HeaderReason]; ok {
			t.Fatal("a retry copy carries a reason")
		}
		if fmt.Sprint(msg.Headers) != before || msg.Exchange != exchange || msg.RoutingKey != key {
			t.Fatal("the message changed")
		}
	})
}

func checkCopyHeaders(t *testing.T, msg *warren.Message, in, h amqp.Table, err error, attempt int64) {
	t.Helper()
	if verr := h.Validate(); verr != nil {
		t.Fatalf("not a valid AMQP table: %v", verr)
	}
	for k, v := range h {
		if len(k) > 255 {
			t.Fatalf("key of %d bytes: not an AMQP short string", len(k))
		}
		if warrenHeaders[k] {
			continue
		}
		if fmt.Sprint(v) != fmt.Sprint(in[k]) {
			t.Fatalf("the message's header %q changed from %v to %v", k, in[k], v)
		}
	}
	if _, ok := h["x-delivery-count"]; ok {
		t.Fatal("a copy keeps x-delivery-count: its queue would count the old deliveries")
	}
	for k := range in {
		if k == "x-delivery-count" {
			continue // dropped on purpose (checked above)
		}
		if _, ok := h[k]; !ok && !warrenHeaders[k] {
			t.Fatalf("the message's header %q is missing", k)
		}
	}
	for _, k := range []string{warren.HeaderExceptionMessage, warren.HeaderExceptionStacktrace,
		warren.HeaderOriginalExchange, warren.HeaderOriginalRoutingKey, warren.HeaderRoute, warren.HeaderQueue, warren.HeaderReason} {
		v, ok := h[k]
		if !ok {
			continue
		}
		s, isString := v.(string)
		if !isString || len(s) > warren.MaxHeaderValue {
			t.Fatalf("%s is a %T of %d bytes, want a string of at most %d", k, v, len(s), warren.MaxHeaderValue)
		}
	}
	want := map[string]string{
		warren.HeaderOriginalExchange: msg.Exchange, warren.HeaderOriginalRoutingKey: msg.RoutingKey,
		warren.HeaderRoute: msg.Route, warren.HeaderQueue: msg.Queue,
	}
	for k, src := range want {
		if s := h[k].(string); !strings.HasPrefix(src, strings.TrimSuffix(s, "...")) || utf8.ValidString(src) && !utf8.ValidString(s) {
			t.Fatalf("%s = %q, not the start of %q", k, s, src)
		}
	}
	em, hasMsg := h[warren.HeaderExceptionMessage]
	if hasMsg != (err != nil) {
		t.Fatalf("exception message %v for error %v", em, err)
	}
	if err != nil && utf8.ValidString(err.Error()) && !utf8.ValidString(em.(string)) {
		t.Fatalf("exception message %q is not valid UTF-8", em)
	}
	var pe *warren.PanicError
	if _, ok := h[warren.HeaderExceptionStacktrace]; ok != (errors.As(err, &pe) && len(pe.Stack) > 0) {
		t.Fatalf("stack trace header present: %v, for error %v", ok, err)
	}
	if h[warren.HeaderAttempt] != attempt {
		t.Fatalf("attempt %#v, want %d", h[warren.HeaderAttempt], attempt)
	}
	if at, ok := h[warren.HeaderFailedAt].(time.Time); !ok || !at.Equal(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)) {
		t.Fatalf("failed-at %v", h[warren.HeaderFailedAt])
	}
}
