package warren_test

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/transport"
)

func TestMessageCloneSharesNothing(t *testing.T) {
	m := &warren.Message{
		Body:    []byte("abc"),
		Headers: amqp.Table{"n": amqp.Table{"k": "v"}, "l": []any{"x"}, "b": []byte("raw")},
	}
	c := m.Clone()
	m.Body[0] = 'X'
	m.Headers["n"].(amqp.Table)["k"] = "changed"
	m.Headers["l"].([]any)[0] = "changed"
	m.Headers["b"].([]byte)[0] = 'X'
	if string(c.Body) != "abc" || c.Headers["n"].(amqp.Table)["k"] != "v" || c.Headers["l"].([]any)[0] != "x" ||
		string(c.Headers["b"].([]byte)) != "raw" {
		t.Fatalf("clone shares state with the original: %+v", c)
	}
}

func TestMessagePoolReturnsClearedMessages(t *testing.T) {
	m := transport.Get[*warren.Message]().Acquire()
	m.RoutingKey, m.Body, m.Attempt = "k", []byte("b"), 3
	transport.Get[*warren.Message]().Release(m)
	for i := 0; i < 10; i++ {
		n := transport.Get[*warren.Message]().Acquire()
		if n.RoutingKey != "" || n.Body != nil || n.Attempt != 0 {
			t.Fatalf("pooled message not cleared: %+v", n)
		}
		transport.Get[*warren.Message]().Release(n)
	}
}

func TestFromDelivery(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	d := &amqp.Delivery{
		Exchange: "events.topic.exchange", RoutingKey: "Order.Created", Redelivered: true,
		Headers: amqp.Table{"h": "v"}, Body: []byte("{}"), ContentType: "application/json",
		CorrelationId: "c", ReplyTo: "r", MessageId: "m", Timestamp: ts, Type: "t", AppId: "a",
		DeliveryMode: 2, Priority: 1,
	}
	var m warren.Message
	transport.Get[*warren.Message]().FromDelivery(&m, d, "q")
	if m.Exchange != d.Exchange || m.RoutingKey != d.RoutingKey || m.Queue != "q" || !m.Redelivered || m.Attempt != 1 ||
		m.CorrelationID != "c" || m.ReplyTo != "r" || m.MessageID != "m" || !m.Timestamp.Equal(ts) || m.Type != "t" ||
		m.AppID != "a" || m.DeliveryMode != 2 || m.Priority != 1 || string(m.Body) != "{}" || m.Header("h") != "v" {
		t.Fatalf("FromDelivery: %+v", m)
	}
}

func TestFromDeliveryRestoresOriginalsOfRetriedMessages(t *testing.T) {
	d := &amqp.Delivery{Exchange: "", RoutingKey: "svc.queue", Headers: amqp.Table{
		warren.HeaderAttempt: int64(3), warren.HeaderOriginalExchange: "events.topic.exchange",
		warren.HeaderOriginalRoutingKey: "Order.Created",
		"x-death":                       []any{amqp.Table{"queue": "svc.queue.retry.5s", "reason": "expired", "count": int64(2)}},
	}}
	var m warren.Message
	transport.Get[*warren.Message]().FromDelivery(&m, d, "svc.queue")
	if m.Attempt != 3 || m.Exchange != "events.topic.exchange" || m.RoutingKey != "Order.Created" {
		t.Fatalf("retried message: %+v", m)
	}
}

// TestFromDeliveryIgnoresPublisherWrittenOriginals: x-original-* (and an
// x-death) a publisher wrote do not choose the route unless the broker
// dead-lettered the delivery back from the queue's own wait queue.
func TestFromDeliveryIgnoresPublisherWrittenOriginals(t *testing.T) {
	spoof := amqp.Table{
		warren.HeaderAttempt: int64(2), warren.HeaderOriginalExchange: "admin.exchange",
		warren.HeaderOriginalRoutingKey: "Admin.PurgeAll",
		"x-death":                       []any{amqp.Table{"queue": "svc.queue.retry.5s", "reason": "expired"}},
	}
	for name, d := range map[string]*amqp.Delivery{
		"published to the exchange":        {Exchange: "events.topic.exchange", RoutingKey: "Order.Created", Headers: spoof},
		"default exchange, another queue":  {Exchange: "", RoutingKey: "other.queue", Headers: spoof},
		"no x-death":                       {Exchange: "", RoutingKey: "svc.queue", Headers: amqp.Table{warren.HeaderAttempt: int64(2), warren.HeaderOriginalRoutingKey: "Admin.PurgeAll"}},
		"x-death of another queue's wait":  {Exchange: "", RoutingKey: "svc.queue", Headers: amqp.Table{warren.HeaderOriginalRoutingKey: "Admin.PurgeAll", "x-death": []any{amqp.Table{"queue": "other.retry.5s", "reason": "expired"}}}},
		"x-death not expired (a rejected)": {Exchange: "", RoutingKey: "svc.queue", Headers: amqp.Table{warren.HeaderOriginalRoutingKey: "Admin.PurgeAll", "x-death": []any{amqp.Table{"queue": "svc.queue.retry.5s", "reason": "rejected"}}}},
	} {
		var m warren.Message
		transport.Get[*warren.Message]().FromDelivery(&m, d, "svc.queue")
		if m.RoutingKey != d.RoutingKey || m.Exchange != d.Exchange {
			t.Errorf("%s: dispatched as %q on %q, want the published %q on %q", name, m.RoutingKey, m.Exchange, d.RoutingKey, d.Exchange)
		}
	}
}

func TestFromDeliveryToleratesGarbageHeaders(t *testing.T) {
	for _, v := range []any{"not a number", 3.5, amqp.Table{"x": 1}, int64(-4), nil, []any{1}} {
		d := &amqp.Delivery{RoutingKey: "k", Headers: amqp.Table{warren.HeaderAttempt: v, warren.HeaderOriginalRoutingKey: 7}}
		var m warren.Message
		transport.Get[*warren.Message]().FromDelivery(&m, d, "q")
		if m.Attempt != 1 || m.RoutingKey != "k" {
			t.Errorf("attempt header %#v: Attempt %d RoutingKey %q", v, m.Attempt, m.RoutingKey)
		}
	}
	var m warren.Message
	transport.Get[*warren.Message]().FromDelivery(&m, &amqp.Delivery{Headers: amqp.Table{warren.HeaderAttempt: int64(1) << 40}}, "q")
	if m.Attempt <= 1 || m.Attempt > 1<<20 {
		t.Errorf("huge attempt header gave Attempt %d, want it bounded", m.Attempt)
	}
}

func TestTransportHooksDoNotAllocate(t *testing.T) {
	hooks := transport.Get[*warren.Message]()
	d := &amqp.Delivery{RoutingKey: "Order.Created", Headers: amqp.Table{warren.HeaderAttempt: int64(2)}, Body: []byte("{}")}
	hooks.Release(hooks.Acquire()) // warm the pool
	allocs := testing.AllocsPerRun(1000, func() {
		m := hooks.Acquire()
		hooks.FromDelivery(m, d, "q")
		hooks.Release(m)
	})
	if allocs != 0 {
		t.Fatalf("acquire, fill and release allocated %.1f times per delivery, want 0", allocs)
	}
}
