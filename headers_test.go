package warren_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

func TestBoundedString(t *testing.T) {
	if got := warren.BoundedString("short", 10); got != "short" {
		t.Fatalf("got %q", got)
	}
	long := strings.Repeat("é", 100) // 2 bytes each
	got := warren.BoundedString(long, 51)
	if len(got) > 51 || !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
		t.Fatalf("BoundedString = %q (len %d)", got, len(got))
	}
}

func TestDeaths(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	h := amqp.Table{"x-death": []any{
		amqp.Table{"queue": "q", "reason": "rejected", "count": int64(3), "exchange": "ex",
			"routing-keys": []any{"a.b"}, "time": ts},
		"garbage",
		amqp.Table{"queue": 5, "count": "x"},
	}}
	ds := warren.Deaths(h)
	if len(ds) != 2 {
		t.Fatalf("Deaths = %+v, want 2 entries (garbage skipped)", ds)
	}
	d := ds[0]
	if d.Queue != "q" || d.Reason != "rejected" || d.Count != 3 || d.Exchange != "ex" ||
		len(d.RoutingKeys) != 1 || d.RoutingKeys[0] != "a.b" || !d.Time.Equal(ts) {
		t.Fatalf("Deaths[0] = %+v", d)
	}
	if ds[1].Queue != "" || ds[1].Count != 0 {
		t.Fatalf("malformed entry read as %+v", ds[1])
	}
	for _, bad := range []amqp.Table{nil, {"x-death": "str"}, {"x-death": []any{}}} {
		if got := warren.Deaths(bad); len(got) != 0 {
			t.Fatalf("Deaths(%v) = %v", bad, got)
		}
	}
}

func TestAttemptOf(t *testing.T) {
	for _, c := range []struct {
		value any
		want  int
		ok    bool
	}{
		{int64(3), 3, true},
		{"7", 7, true},
		{int32(1), 1, true},
		{int64(1) << 40, warren.MaxAttempt, true},
		{int64(0), 0, false},
		{int64(-2), 0, false},
		{3.5, 0, false},
		{"three", 0, false},
		{nil, 0, false},
	} {
		n, ok := warren.AttemptOf(amqp.Table{warren.HeaderAttempt: c.value})
		if n != c.want || ok != c.ok {
			t.Errorf("AttemptOf(%#v) = %d, %v, want %d, %v", c.value, n, ok, c.want, c.ok)
		}
	}
	if n, ok := warren.AttemptOf(nil); n != 0 || ok {
		t.Errorf("AttemptOf(nil) = %d, %v, want 0, false", n, ok)
	}
}
