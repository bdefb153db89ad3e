package warren

import (
	"strings"
	"testing"
)

// matchCases are (pattern, key, want) triples covering the awkward corners of
// RabbitMQ's topic matching. The broker agreement test checks the same
// patterns and keys against a real topic exchange.
var matchCases = []struct {
	pattern, key string
	want         bool
}{
	{"a", "a", true},
	{"a", "b", false},
	{"a", "a.b", false},
	{"a.b", "a.b", true},
	{"*", "a", true},
	{"*", "", false},
	{"*", "a.b", false},
	{"*", ".", false},
	{"*.*", "a.b", true},
	{"*.*", "a", false},
	{"*.*", ".", true},
	{"#", "", true},
	{"#", "a", true},
	{"#", "a.b.c", true},
	{"#", ".", true},
	{"#.#", "", true},
	{"#.#", "a.b", true},
	{"a.#", "a", true},
	{"a.#", "a.b.c", true},
	{"a.#", "b", false},
	{"#.b", "b", true},
	{"#.b", "a.b", true},
	{"#.b", "a.b.c", false},
	{"a.#.b", "a.b", true},
	{"a.#.b", "a.x.y.b", true},
	{"a.#.b", "a.x.y", false},
	{"a.*.b", "a.b", false},
	{"a.*.b", "a.x.b", true},
	{"a..b", "a..b", true},
	{"a..b", "a.b", false},
	{"a.*.b", "a..b", true},
	{"", "", true},
	{"", "a", false},
	{"a.", "a.", true},
	{"a.", "a", false},
	{"a.*", "a.", true},
	{".", ".", true},
	{".", "", false},
	{"*.#", "", false},
	{"*.#", "a", true},
	{"#.*", "a.b", true},
	{"#.*", "", false},
	{"#.*.#", "x", true},
	{"Order.*", "Order.Created", true},
	{"Order.*", "Order.Created.v2", false},
	{"audit.#", "audit", true},
	{"*.Created", "Order.Created", true},
	{"Order.Created", "order.created", false},
}

func TestPatternMatch(t *testing.T) {
	for _, c := range matchCases {
		p := MustParsePattern(c.pattern)
		if got := p.Match(c.key); got != c.want {
			t.Errorf("pattern %q key %q: Match = %v, want %v", c.pattern, c.key, got, c.want)
		}
	}
}

func TestParsePatternRejects(t *testing.T) {
	cases := map[string]string{
		"Order*":                 "mixes a wildcard",
		"a.#b":                   "mixes a wildcard",
		"a.**":                   "mixes a wildcard",
		"a.b*c.d":                "word 2",
		strings.Repeat("a", 256): "longer than 255 bytes",
		"a.\xff":                 "not valid UTF-8",
	}
	for in, want := range cases {
		_, err := ParsePattern(in)
		if err == nil {
			t.Errorf("ParsePattern(%q) accepted a malformed pattern", in)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "malformed pattern") {
			t.Errorf("ParsePattern(%q) = %q, want it to say %q", in, err, want)
		}
	}
	for _, ok := range []string{"", "#", "*", "a..b", ".", strings.Repeat("a", 255), "Ordér.*"} {
		if _, err := ParsePattern(ok); err != nil {
			t.Errorf("ParsePattern(%q) = %v, want ok", ok, err)
		}
	}
}

func TestPatternCompare(t *testing.T) {
	// Each pattern is more specific than every one after it.
	ordered := []string{"a.b.c", "a.b.*", "a.b", "a.b.#", "a.*.c", "a.*", "a.#.c", "a.#", "*.b", "#.b", "#"}
	for i := range ordered {
		for j := range ordered {
			p, q := MustParsePattern(ordered[i]), MustParsePattern(ordered[j])
			got := p.Compare(q)
			switch {
			case i < j && got <= 0, i > j && got >= 0, i == j && got != 0:
				t.Errorf("Compare(%q, %q) = %d, wrong sign", ordered[i], ordered[j], got)
			}
		}
	}
}

func TestMustParsePatternPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.HasPrefix(r.(string), "warren: malformed pattern") {
			t.Fatalf("recover() = %v, want a warren: panic", r)
		}
	}()
	MustParsePattern("bad*")
}
