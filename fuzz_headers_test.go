package warren_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/fuzztable"
	"github.com/warren-mq/warren/internal/transport"
)

// headerSeeds are realistic and hostile header tables for the header
// fuzz targets.
func headerSeeds() []amqp.Table {
	nested := amqp.Table{"leaf": "x"}
	for i := 0; i < 35; i++ {
		nested = amqp.Table{"n": nested}
	}
	wide := make([]any, 255)
	for i := range wide {
		wide[i] = amqp.Table{"count": int64(-i), "queue": int32(i)}
	}
	return []amqp.Table{
		{},
		{"x-death": []any{amqp.Table{"queue": "orders", "reason": "rejected", "count": int64(3),
			"exchange": "events.topic.exchange", "routing-keys": []any{"Order.Created"}}}},
		{"x-warren-attempt": int64(3), "x-original-routingKey": "Order.Created", "x-original-exchange": "events.topic.exchange"},
		{"x-warren-attempt": "2", "x-original-routingKey": []byte("Order.Paid")},
		{"x-warren-attempt": 2.5, "x-original-routingKey": int64(7)},
		{"x-warren-attempt": amqp.Table{"n": int32(1)}, "x-death": "not a list"},
		{"x-warren-attempt": strings.Repeat("9", 400), "x-original-exchange": amqp.Table{}},
		{"x-warren-attempt": int64(math.MaxInt64)},
		{"x-warren-attempt": int64(math.MinInt64)},
		{"x-warren-attempt": uint32(math.MaxUint32), "x-original-routingKey": strings.Repeat("k", 5000)},
		{"x-death": []any{"queue", nil, int32(4), []any{amqp.Table{}}, amqp.Table{"count": "lots",
			"routing-keys": "a.b", "time": "yesterday", "queue": []byte("q")}}},
		{"x-death": wide},
		{"deep": nested, "x-death": []any{nested}},
	}
}

// FuzzHeaderReaders reads arbitrary header tables with HeaderInt,
// HeaderString and Deaths: they never panic, report a value only when the
// header holds one of the types they document, and Deaths reads every
// x-death entry that is a table, with a count that is never negative.
func FuzzHeaderReaders(f *testing.F) {
	for _, h := range headerSeeds() {
		f.Add(fuzztable.Encode(h), "x-warren-attempt")
	}
	f.Add([]byte{0xff, 0x00}, "")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		h := fuzztable.Table(data)
		for _, k := range append(fuzztable.Keys, key) {
			checkHeaderInt(t, h, k)
			checkHeaderString(t, h, k)
		}
		checkDeaths(t, h)
		checkDeaths(t, nil)
	})
}

func checkHeaderInt(t *testing.T, h amqp.Table, k string) {
	t.Helper()
	n, ok := warren.HeaderInt(h, k)
	var want int64
	wantOK := true
	switch v := h[k].(type) {
	case int:
		want = int64(v)
	case int8:
		want = int64(v)
	case int16:
		want = int64(v)
	case int32:
		want = int64(v)
	case int64:
		want = v
	case uint8:
		want = int64(v)
	case uint16:
		want = int64(v)
	case uint32:
		want = int64(v)
	case string:
		var err error
		want, err = strconv.ParseInt(v, 10, 64)
		wantOK = err == nil
	default:
		wantOK = false
	}
	if ok != wantOK || (ok && n != want) {
		t.Fatalf("HeaderInt(%q) of %T %v = %d, %v; want %d, %v", k, h[k], h[k], n, ok, want, wantOK)
	}
}

func checkHeaderString(t *testing.T, h amqp.Table, k string) {
	t.Helper()
	s, ok := warren.HeaderString(h, k)
	switch v := h[k].(type) {
	case string:
		if !ok || s != v {
			t.Fatalf("HeaderString(%q) = %q, %v for the string %q", k, s, ok, v)
		}
	case []byte:
		if !ok || s != string(v) {
			t.Fatalf("HeaderString(%q) = %q, %v for the bytes %q", k, s, ok, v)
		}
	default:
		if ok || s != "" {
			t.Fatalf("HeaderString(%q) = %q, %v for %T", k, s, ok, v)
		}
	}
}

func checkDeaths(t *testing.T, h amqp.Table) {
	t.Helper()
	ds := warren.Deaths(h)
	list, _ := h["x-death"].([]any)
	var tables []amqp.Table
	for _, e := range list {
		if tb, ok := e.(amqp.Table); ok {
			tables = append(tables, tb)
		}
	}
	if len(ds) != len(tables) {
		t.Fatalf("Deaths read %d entries of %d tables in %v", len(ds), len(tables), h["x-death"])
	}
	for i, d := range ds {
		if d.Count < 0 {
			t.Fatalf("Deaths[%d].Count = %d", i, d.Count)
		}
		if n, ok := warren.HeaderInt(tables[i], "count"); ok && n >= 0 && d.Count != n {
			t.Fatalf("Deaths[%d].Count = %d, the entry says %d", i, d.Count, n)
		}
		if q, ok := tables[i]["queue"].(string); ok && d.Queue != q {
			t.Fatalf("Deaths[%d].Queue = %q, the entry says %q", i, d.Queue, q)
		}
	}
}

// FuzzFromDelivery fills Messages from deliveries with arbitrary headers:
// the attempt is always within [1, 2^20], the exchange and routing key
// are the delivery's unless the message is a retry (attempt > 1) that
// names its original ones with strings, and Clone and Publishing copy the
// headers deeply into a valid AMQP table.
func FuzzFromDelivery(f *testing.F) {
	for _, h := range headerSeeds() {
		f.Add(fuzztable.Encode(h), "events.topic.exchange", "Order.Created")
	}
	f.Add(fuzztable.Encode(amqp.Table{warren.HeaderAttempt: int64(2), warren.HeaderOriginalRoutingKey: "Order.Created",
		"x-death": []any{amqp.Table{"queue": "q.retry.5s", "reason": "expired"}}}), "", "q") // back from a wait queue
	f.Fuzz(func(t *testing.T, data []byte, exchange, key string) {
		h := fuzztable.Table(data)
		before := fmt.Sprint(h)
		var m warren.Message
		transport.Get[*warren.Message]().FromDelivery(&m, &amqp.Delivery{Headers: h, Exchange: exchange, RoutingKey: key, Body: data}, "q")
		if m.Attempt < 1 || m.Attempt > warren.MaxAttempt {
			t.Fatalf("attempt %d from %v", m.Attempt, h[warren.HeaderAttempt])
		}
		if n, ok := warren.HeaderInt(h, warren.HeaderAttempt); ok && n >= 1 && n <= warren.MaxAttempt && int64(m.Attempt) != n {
			t.Fatalf("attempt %d, the header says %d", m.Attempt, n)
		}
		wantEx, wantKey := exchange, key
		if fromWaitQueue(exchange, key, "q", h) {
			if s, ok := warren.HeaderString(h, warren.HeaderOriginalExchange); ok {
				wantEx = s
			}
			if s, ok := warren.HeaderString(h, warren.HeaderOriginalRoutingKey); ok {
				wantKey = s
			}
		}
		if m.Exchange != wantEx || m.RoutingKey != wantKey || m.Queue != "q" {
			t.Fatalf("exchange %q key %q queue %q, want %q %q q", m.Exchange, m.RoutingKey, m.Queue, wantEx, wantKey)
		}

		c := m.Clone()
		if fmt.Sprint(c.Headers) != before {
			t.Fatalf("Clone changed the headers")
		}
		scribble(c.Headers)
		if fmt.Sprint(h) != before {
			t.Fatalf("writing to a clone's headers changed the original's")
		}
		p := m.Publishing()
		if err := p.Headers.Validate(); err != nil {
			t.Fatalf("Publishing's headers are not a valid AMQP table: %v", err)
		}
		scribble(p.Headers)
		if fmt.Sprint(h) != before {
			t.Fatalf("writing to a publishing's headers changed the message's")
		}
	})
}

// scribble writes into t and into every table and byte slice nested in
// it.
func scribble(v any) {
	switch x := v.(type) {
	case amqp.Table:
		for _, e := range x {
			scribble(e)
		}
		if x != nil {
			x[strings.Repeat("s", 200)] = "scribbled"
		}
	case []any:
		for i, e := range x {
			scribble(e)
			x[i] = "scribbled"
		}
	case []byte:
		for i := range x {
			x[i] ^= 0xff
		}
	}
}

// fromWaitQueue is the fuzz target's reference for the trust rule: the
// default exchange, the queue's own name as key, and a newest x-death
// entry naming one of the queue's wait queues with reason expired.
func fromWaitQueue(exchange, key, queue string, h amqp.Table) bool {
	if exchange != "" || key != queue {
		return false
	}
	deaths, _ := h["x-death"].([]any)
	if len(deaths) == 0 {
		return false
	}
	newest, _ := deaths[0].(amqp.Table)
	from, _ := newest["queue"].(string)
	reason, _ := newest["reason"].(string)
	return reason == "expired" && strings.HasPrefix(from, queue+".retry.")
}
