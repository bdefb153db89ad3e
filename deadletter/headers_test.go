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
	"github.com/warren-mq/warren/internal/transport"
	"github.com/warren-mq/warren/warrentest"
)

var now = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func failedMessage() *warren.Message {
	m := warrentest.NewMessage("Order.Created", []byte(`{"id":1}`),
		warrentest.WithExchange("events.topic.exchange"),
		warrentest.WithQueue("orders"),
		warrentest.WithAttempt(3),
		warrentest.WithHeader("tenant", "acme"),
		warrentest.WithHeader("nested", amqp.Table{"k": "v"}),
	)
	m.Route = "Order.*"
	return m
}

func TestIsQueueName(t *testing.T) {
	if !deadletter.IsQueueName("orders.dlq") || deadletter.IsQueueName("orders") || deadletter.IsQueueName(".dlq") {
		t.Fatal("IsQueueName")
	}
}

func TestHeaders(t *testing.T) {
	msg := failedMessage()
	before := fmt.Sprint(msg.Headers)
	h := deadletter.Headers(msg, warren.ReasonError, errors.New("db down"), now)

	want := map[string]any{
		"tenant":                        "acme",
		warren.HeaderExceptionMessage:   "db down",
		warren.HeaderOriginalExchange:   "events.topic.exchange",
		warren.HeaderOriginalRoutingKey: "Order.Created",
		warren.HeaderAttempt:            int64(3),
		warren.HeaderRoute:              "Order.*",
		warren.HeaderQueue:              "orders",
		warren.HeaderReason:             "error",
		warren.HeaderFailedAt:           time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s = %#v, want %#v", k, h[k], v)
		}
	}
	if _, ok := h[warren.HeaderExceptionStacktrace]; ok {
		t.Error("stack trace header for an error that is no panic")
	}
	if err := h.Validate(); err != nil {
		t.Errorf("headers amqp091 cannot encode: %v", err)
	}
	if fmt.Sprint(msg.Headers) != before || len(msg.Headers) != 2 {
		t.Errorf("msg.Headers changed: %v", msg.Headers)
	}
	h["nested"].(amqp.Table)["k"] = "changed"
	if msg.Headers["nested"].(amqp.Table)["k"] != "v" {
		t.Error("Headers shares a nested table with msg.Headers")
	}
}

func TestHeadersBoundsHugeValues(t *testing.T) {
	huge := strings.Repeat("é", 1<<19) // 1 MiB of two-byte runes
	pe := &warren.PanicError{Value: huge, Stack: []byte(strings.Repeat("goroutine 1 [running]:\n", 50000))}
	h := deadletter.Headers(failedMessage(), warren.ReasonError, fmt.Errorf("wrapped: %w", pe), now)

	msg := h[warren.HeaderExceptionMessage].(string)
	stack := h[warren.HeaderExceptionStacktrace].(string)
	for name, s := range map[string]string{"message": msg, "stack": stack} {
		if len(s) > warren.MaxHeaderValue || !strings.HasSuffix(s, "...") {
			t.Errorf("%s header is %d bytes, want at most %d and marked cut", name, len(s), warren.MaxHeaderValue)
		}
		if !utf8.ValidString(s) {
			t.Errorf("%s header is cut inside a UTF-8 sequence", name)
		}
	}
	if !strings.HasPrefix(stack, "goroutine 1") {
		t.Errorf("stack header %q", stack[:40])
	}
}

func TestHeadersReplaceEarlierFailure(t *testing.T) {
	msg := failedMessage()
	first := deadletter.RetryHeaders(msg, &warren.PanicError{Value: "boom", Stack: []byte("stack")}, now)
	msg.Headers = first
	msg.Attempt = 4
	h := deadletter.Headers(msg, warren.ReasonPermanent, warren.Permanent(errors.New("invalid")), now)
	if h[warren.HeaderExceptionMessage] != "invalid" || h[warren.HeaderAttempt] != int64(4) || h[warren.HeaderReason] != "permanent" {
		t.Errorf("headers not replaced: %v", h)
	}
	if _, ok := h[warren.HeaderExceptionStacktrace]; ok {
		t.Error("a stack trace from an earlier panic survived")
	}
	h = deadletter.Headers(msg, warren.ReasonNoRoute, nil, time.Time{})
	if _, ok := h[warren.HeaderExceptionMessage]; ok {
		t.Error("exception message without an error")
	}
	if ts, _ := h[warren.HeaderFailedAt].(time.Time); time.Since(ts) > time.Minute {
		t.Errorf("zero now gave failed-at %v, want the current time", ts)
	}
}

func TestRetryHeaders(t *testing.T) {
	msg := failedMessage()
	msg.Headers[warren.HeaderReason] = "stale"
	h := deadletter.RetryHeaders(msg, errors.New("timeout"), now)
	if h[warren.HeaderAttempt] != int64(4) {
		t.Errorf("attempt %#v, want 4", h[warren.HeaderAttempt])
	}
	if _, ok := h[warren.HeaderReason]; ok {
		t.Error("retry headers carry a reason")
	}
	if h[warren.HeaderOriginalExchange] != "events.topic.exchange" || h[warren.HeaderOriginalRoutingKey] != "Order.Created" {
		t.Errorf("original exchange/key: %v", h)
	}
	if msg.Headers[warren.HeaderReason] != "stale" {
		t.Error("msg.Headers changed")
	}
}

// TestRetryHeadersRoundTrip checks that a delivery carrying RetryHeaders is
// seen by a handler as the next attempt with the original routing.
func TestRetryHeadersRoundTrip(t *testing.T) {
	msg := failedMessage()
	h := deadletter.RetryHeaders(msg, errors.New("x"), now)
	// The broker dead-letters the copy back from the wait queue, writing
	// its x-death entry first: that is what makes the originals trusted.
	h["x-death"] = []any{amqp.Table{"queue": warren.WaitQueue("orders", 5*time.Second), "reason": "expired", "count": int64(1)}}
	var back warren.Message
	transport.Get[*warren.Message]().FromDelivery(&back, &amqp.Delivery{Exchange: "", RoutingKey: "orders", Headers: h}, "orders")
	if back.Attempt != 4 || back.Exchange != msg.Exchange || back.RoutingKey != msg.RoutingKey {
		t.Fatalf("delivery read back as attempt %d %q/%q", back.Attempt, back.Exchange, back.RoutingKey)
	}
}

func TestPublishing(t *testing.T) {
	msg := failedMessage()
	p := deadletter.Publishing(msg, warren.ReasonDecode, errors.New("bad json"), now)
	if p.Exchange != "" || p.RoutingKey != "orders.dlq" || !p.Mandatory {
		t.Errorf("addressed to %q/%q mandatory=%v", p.Exchange, p.RoutingKey, p.Mandatory)
	}
	if string(p.Body) != `{"id":1}` || p.MessageId != msg.MessageID || p.DeliveryMode != amqp.Persistent {
		t.Errorf("properties not kept: %+v", p.Publishing)
	}
	if p.Headers[warren.HeaderReason] != "decode" || p.Headers[warren.HeaderAttempt] != int64(3) || p.Headers["tenant"] != "acme" {
		t.Errorf("headers %v", p.Headers)
	}

	r := deadletter.RetryPublishing(msg, errors.New("x"), now, "orders.retry.5s")
	if r.RoutingKey != "orders.retry.5s" || !r.Mandatory || r.Headers[warren.HeaderAttempt] != int64(4) {
		t.Errorf("retry publishing %q %v", r.RoutingKey, r.Headers)
	}
	if _, ok := r.Headers[warren.HeaderReason]; ok {
		t.Error("retry publishing carries a reason")
	}
	if len(msg.Headers) != 2 {
		t.Errorf("msg.Headers changed: %v", msg.Headers)
	}

	bare := warrentest.NewMessage("k", nil, warrentest.WithQueue("q"))
	if p := deadletter.Publishing(bare, warren.ReasonNoRoute, nil, now); p.Headers[warren.HeaderReason] != "no-route" {
		t.Errorf("message without headers: %v", p.Headers)
	}
}
