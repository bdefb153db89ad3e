package deadletter_test

import (
	"errors"
	"math"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/transport"
)

func TestEntryOfWarrenHeaders(t *testing.T) {
	msg := failedMessage()
	h := deadletter.Headers(msg, warren.ReasonPermanent, &warren.PanicError{Value: "boom", Stack: []byte("main.go:1")}, now)
	d := &amqp.Delivery{Exchange: "", RoutingKey: "orders.dlq", MessageId: "m-1", Body: []byte("12345"), Headers: h, ContentType: "application/json"}

	e := deadletter.EntryOf(d)
	if e.MessageID != "m-1" || e.RoutingKey != "orders.dlq" || e.BodySize != 5 || e.ContentType != "application/json" {
		t.Errorf("properties: %+v", e)
	}
	if e.Reason != "permanent" || e.Error != "warren: handler panicked: boom" || e.Stacktrace != "main.go:1" {
		t.Errorf("failure: reason %q error %q stack %q", e.Reason, e.Error, e.Stacktrace)
	}
	if e.Attempt != 3 || e.Route != "Order.*" || e.Queue != "orders" || !e.FailedAt.Equal(now.Truncate(time.Second)) {
		t.Errorf("attempt %d route %q queue %q failed at %v", e.Attempt, e.Route, e.Queue, e.FailedAt)
	}
	if !e.HasOrigin || e.OriginalExchange != "events.topic.exchange" || e.OriginalRoutingKey != "Order.Created" {
		t.Errorf("origin %q %q %v", e.OriginalExchange, e.OriginalRoutingKey, e.HasOrigin)
	}
}

func TestEntryOfBrokerDeadLettered(t *testing.T) {
	died := time.Unix(1700000000, 0)
	h := amqp.Table{
		"x-death": []any{
			amqp.Table{"queue": "orders", "reason": "rejected", "count": int64(1), "exchange": "", "routing-keys": []any{"orders"}, "time": died},
			amqp.Table{"queue": "orders.retry.5s", "reason": "expired", "count": int64(2), "exchange": "", "routing-keys": []any{"orders.retry.5s"}},
			amqp.Table{"queue": "intake", "reason": "rejected", "count": int64(1), "exchange": "events", "routing-keys": []any{"Order.Created", "cc"}},
		},
		"x-first-death-queue":  "intake",
		"x-first-death-reason": "rejected",
	}
	e := deadletter.EntryOf(&amqp.Delivery{Headers: h})
	if e.Reason != "rejected" || e.Queue != "orders" || !e.FailedAt.Equal(died) || e.Attempt != 0 {
		t.Errorf("reason %q queue %q failed at %v attempt %d", e.Reason, e.Queue, e.FailedAt, e.Attempt)
	}
	if !e.HasOrigin || e.OriginalExchange != "events" || e.OriginalRoutingKey != "Order.Created" {
		t.Errorf("origin %q %q %v, want the first death's", e.OriginalExchange, e.OriginalRoutingKey, e.HasOrigin)
	}

	// Without x-first-death-*: the oldest entry.
	delete(h, "x-first-death-queue")
	h["x-death"] = h["x-death"].([]any)[:2]
	e = deadletter.EntryOf(&amqp.Delivery{Headers: h})
	if !e.HasOrigin || e.OriginalExchange != "" || e.OriginalRoutingKey != "orders.retry.5s" {
		t.Errorf("origin %q %q %v, want the oldest entry's", e.OriginalExchange, e.OriginalRoutingKey, e.HasOrigin)
	}
}

func TestEntryOfHostileHeaders(t *testing.T) {
	for name, h := range map[string]amqp.Table{
		"nil":              nil,
		"wrong types":      {warren.HeaderAttempt: 1.5, warren.HeaderReason: int32(7), warren.HeaderFailedAt: "yesterday", "x-death": "nope"},
		"negative attempt": {warren.HeaderAttempt: int64(-3)},
		"huge attempt":     {warren.HeaderAttempt: int64(math.MaxInt64)},
		"garbage string":   {warren.HeaderAttempt: "12abc"},
		"bad x-death":      {"x-death": []any{"x", 3, amqp.Table{"routing-keys": "not a list", "count": int64(-1)}, amqp.Table{"routing-keys": []any{7}}}},
		"only exchange":    {warren.HeaderOriginalExchange: "e"},
		"nan":              {warren.HeaderAttempt: math.NaN()},
	} {
		t.Run(name, func(t *testing.T) {
			e := deadletter.EntryOf(&amqp.Delivery{Headers: h})
			if e.Attempt < 0 || e.Attempt > 1<<20 {
				t.Errorf("attempt %d", e.Attempt)
			}
			if e.HasOrigin {
				t.Errorf("origin from garbage: %q %q", e.OriginalExchange, e.OriginalRoutingKey)
			}
		})
	}
	if e := deadletter.EntryOf(&amqp.Delivery{Headers: amqp.Table{warren.HeaderAttempt: int64(math.MaxInt64)}}); e.Attempt != 1<<20 {
		t.Errorf("huge attempt read as %d, want it capped at %d", e.Attempt, 1<<20)
	}
	if e := deadletter.EntryOf(&amqp.Delivery{Headers: amqp.Table{warren.HeaderAttempt: "7"}}); e.Attempt != 7 {
		t.Errorf("decimal string attempt read as %d", e.Attempt)
	}
}

func TestReplayPublishingStripsFailure(t *testing.T) {
	msg := failedMessage()
	h := deadletter.Headers(msg, warren.ReasonError, errors.New("x"), now)
	h["x-death"] = []any{amqp.Table{"queue": "orders"}}
	h["x-first-death-queue"] = "orders"
	d := &amqp.Delivery{Headers: h, MessageId: "m", CorrelationId: "c", Type: "T", AppId: "a", ContentType: "ct", DeliveryMode: 2, Priority: 3, Body: []byte("b")}
	p := deadletter.ReplayPublishing(d)
	if len(p.Headers) != 2 || p.Headers["tenant"] != "acme" || p.Headers["nested"] == nil {
		t.Errorf("replay headers %v, want only the application's", p.Headers)
	}
	if p.MessageId != "m" || p.CorrelationId != "c" || p.Type != "T" || p.AppId != "a" || p.ContentType != "ct" || p.DeliveryMode != 2 || p.Priority != 3 || string(p.Body) != "b" {
		t.Errorf("properties not kept: %+v", p)
	}
	if len(d.Headers) != len(h) || d.Headers[warren.HeaderReason] == nil {
		t.Error("the delivery's headers changed")
	}
	var back warren.Message
	transport.Get[*warren.Message]().FromDelivery(&back, &amqp.Delivery{Headers: p.Headers}, "orders")
	if back.Attempt != 1 {
		t.Errorf("replayed message is attempt %d, want 1", back.Attempt)
	}
}

// FuzzEntryOf reads arbitrary header values: EntryOf must never panic and
// always yield a sane attempt.
func FuzzEntryOf(f *testing.F) {
	f.Add("error", int64(3), "orders", "Order.Created", []byte("x"), "rejected", int64(1))
	f.Add("", int64(-1), "", "", []byte{}, "", int64(-9))
	f.Add("permanent", int64(math.MaxInt64), "\xff", "#", []byte{0xff, 0}, "expired", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, reason string, attempt int64, exchange, key string, raw []byte, deathReason string, count int64) {
		tables := []amqp.Table{
			{warren.HeaderReason: reason, warren.HeaderAttempt: attempt, warren.HeaderOriginalExchange: exchange, warren.HeaderOriginalRoutingKey: raw},
			{warren.HeaderAttempt: string(raw), warren.HeaderReason: raw, "x-death": []any{amqp.Table{"reason": deathReason, "count": count, "routing-keys": []any{key, raw}, "exchange": raw}}},
			{warren.HeaderAttempt: int32(attempt), "x-death": []any{raw, amqp.Table{"routing-keys": []any{}}, amqp.Table{"queue": key, "reason": deathReason, "routing-keys": []any{key}}}, "x-first-death-queue": key, "x-first-death-reason": raw},
			{warren.HeaderAttempt: uint8(attempt), warren.HeaderFailedAt: raw, "x-death": amqp.Table{"count": count}},
		}
		for _, h := range tables {
			e := deadletter.EntryOf(&amqp.Delivery{Headers: h, Body: raw})
			if e.Attempt < 0 || e.Attempt > 1<<20 {
				t.Fatalf("attempt %d from %v", e.Attempt, h)
			}
			if e.BodySize != len(raw) {
				t.Fatalf("body size %d", e.BodySize)
			}
		}
	})
}
