package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func decode(s string, v any) error { return json.NewDecoder(strings.NewReader(s)).Decode(v) }

func TestLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                "plain",
		"two\nlines\there":     "two lines here",
		"\x1b[31mred\x1b[0m":   "[31mred [0m",
		"  lead  and  trail  ": "lead and trail",
		"bad \xff utf8":        "bad \uFFFD utf8",
		"abcdefghijkl":         "abcdefghij...",
		"日本語のテキストはここまで長い": "日本語のテキストはこ...",
	} {
		n := 20
		if strings.HasPrefix(want, "abc") || strings.HasPrefix(want, "日本") {
			n = 10
		}
		if got := line(in, n); got != want {
			t.Errorf("line(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBlock(t *testing.T) {
	if got := block("a\n\x1bb\n", 100); got != "a\n b" {
		t.Errorf("block = %q", got)
	}
	if got := block(strings.Repeat("x", 20), 10); got != "xxxxxxxxxx\n... (cut at 10 bytes)" {
		t.Errorf("cut block = %q", got)
	}
}

func TestJSONTableHandlesWhatEncodingJSONRefuses(t *testing.T) {
	h := amqp.Table{"nan": math.NaN(), "inf": []any{math.Inf(1), amqp.Table{"f": float32(math.Inf(-1))}}, "ok": 1.5}
	b, err := json.Marshal(jsonTable(h))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"inf":["+Inf",{"f":"-Inf"}],"nan":"NaN","ok":1.5}` {
		t.Errorf("json = %s", got)
	}
}
