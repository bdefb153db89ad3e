package warren

import (
	"strings"
	"testing"
)

// referenceBest is the specification the trie must meet: of all patterns
// that match key, the most specific by Pattern.Compare.
func referenceBest(patterns []Pattern, key string) (Pattern, bool) {
	var best Pattern
	found := false
	for _, p := range patterns {
		if p.Match(key) && (!found || p.Compare(best) > 0) {
			best, found = p, true
		}
	}
	return best, found
}

func buildTree(t testing.TB, specs []string) (*tree, []Pattern) {
	var tr tree
	var ps []Pattern
	seen := map[string]bool{}
	for _, s := range specs {
		p, err := ParsePattern(s)
		if err != nil || seen[s] {
			continue
		}
		seen[s] = true
		ps = append(ps, p)
		if tr.insert(&route{pattern: p}) != nil {
			t.Fatalf("insert %q reported a duplicate", s)
		}
	}
	return &tr, ps
}

func checkTree(t testing.TB, tr *tree, ps []Pattern, key string) {
	want, ok := referenceBest(ps, key)
	got := tr.match(key)
	switch {
	case !ok && got != nil:
		t.Fatalf("key %q: tree matched %q, reference matched nothing (patterns %v)", key, got.pattern, ps)
	case ok && got == nil:
		t.Fatalf("key %q: tree matched nothing, reference matched %q (patterns %v)", key, want, ps)
	case ok && got.pattern.raw != want.raw:
		t.Fatalf("key %q: tree picked %q, reference picked %q (patterns %v)", key, got.pattern, want, ps)
	}
}

func TestTreeMatchesReference(t *testing.T) {
	specs := []string{
		"a", "a.b", "a.*", "a.#", "*.b", "#.b", "#", "a.#.b", "a.*.b", "*", "*.*", "#.#",
		"", ".", "a.", "a..b", "#.*", "*.#", "a.b.c", "#.b.#", "a.#.#", "#.a.#.b",
	}
	tr, ps := buildTree(t, specs)
	keys := []string{"", "a", "b", "a.b", "a.b.c", "a.x.b", "a..b", ".", "..", "a.", "x.y.z", "b.b", "a.a.b.b", "x.a.y.b"}
	for _, c := range matchCases {
		keys = append(keys, c.key)
	}
	for _, k := range keys {
		checkTree(t, tr, ps, k)
	}
}

func TestTreePrecedenceExamples(t *testing.T) {
	tr, _ := buildTree(t, []string{"Order.Created", "Order.*", "#", "*.Created", "Order.#"})
	for key, want := range map[string]string{
		"Order.Created":  "Order.Created",
		"Order.Updated":  "Order.*",
		"Order":          "Order.#",
		"Order.a.b":      "Order.#",
		"User.Created":   "*.Created",
		"anything.else":  "#",
		"":               "#",
		"Order.Created.": "Order.#",
	} {
		if got := tr.match(key); got == nil || got.pattern.raw != want {
			t.Errorf("key %q: matched %v, want %q", key, got, want)
		}
	}
}

// FuzzTreeMatch checks the trie against the reference matcher on random
// pattern sets and keys. Patterns are separated by '|' in the first input.
func FuzzTreeMatch(f *testing.F) {
	f.Add("a|a.*|#|a.#.b|*.b", "a.x.b")
	f.Add("#.#|#|*.#", "")
	f.Add("a..b|a.*.b|#.b", "a..b")
	f.Add("#.b|#.b.*|b.#", "b.b")
	f.Add("|.|*.*", ".")
	f.Fuzz(func(t *testing.T, specs, key string) {
		if len(specs) > 512 || len(key) > MaxKeyLength {
			return
		}
		tr, ps := buildTree(t, strings.Split(specs, "|"))
		checkTree(t, tr, ps, key)
	})
}

// FuzzParsePattern checks that parsing never panics, that accepted patterns
// survive a round trip, and that an accepted pattern matches a key spelled
// like it with every wildcard replaced by a word.
func FuzzParsePattern(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.pattern)
	}
	f.Add("a*")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("String() = %q, want %q", p.String(), s)
		}
		words := append([]string(nil), p.Words()...)
		for i, w := range words {
			if w == "*" || w == "#" {
				words[i] = "x"
			}
		}
		key := strings.Join(words, ".")
		if !p.Match(key) {
			t.Fatalf("pattern %q does not match %q", s, key)
		}
	})
}
