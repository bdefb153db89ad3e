package warren

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLength is the longest routing key or binding pattern AMQP 0-9-1 can
// carry: both travel as a short string of at most 255 bytes.
const MaxKeyLength = 255

// Pattern is a parsed AMQP topic binding key such as "Order.Created",
// "Order.*" or "audit.#".
//
// The syntax is exactly RabbitMQ's topic exchange: words are separated by
// '.', a word "*" matches exactly one word, a word "#" matches zero or more
// words, and empty words are words ("a..b" has three). The empty pattern has
// no words and matches only the empty routing key.
//
// ParsePattern rejects a pattern that RabbitMQ would accept but that is
// almost always a mistake, or that the broker cannot carry:
//   - longer than MaxKeyLength bytes;
//   - not valid UTF-8;
//   - a word that mixes a wildcard with other characters ("Order*", "#b",
//     "**"): the broker treats such a word as a literal, so it would match
//     only keys that contain the asterisk or hash itself.
type Pattern struct {
	raw   string
	words []string
}

// ParsePattern parses s as a topic binding key and reports why it is
// malformed if it is.
func ParsePattern(s string) (Pattern, error) {
	if len(s) > MaxKeyLength {
		return Pattern{}, &PatternError{Pattern: s, Reason: fmt.Sprintf("longer than %d bytes", MaxKeyLength)}
	}
	if !utf8.ValidString(s) {
		return Pattern{}, &PatternError{Pattern: s, Reason: "not valid UTF-8"}
	}
	words := splitWords(s)
	for i, w := range words {
		if w == "*" || w == "#" {
			continue
		}
		if strings.ContainsAny(w, "*#") {
			return Pattern{}, &PatternError{Pattern: s, Reason: fmt.Sprintf(
				"word %d (%q) mixes a wildcard with other characters; '*' and '#' must stand alone between dots", i+1, w)}
		}
	}
	return Pattern{raw: s, words: words}, nil
}

// MustParsePattern is ParsePattern that panics on a malformed pattern.
func MustParsePattern(s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		panic(err.Error())
	}
	return p
}

// PatternError reports a malformed binding pattern.
type PatternError struct {
	Pattern string
	Reason  string
}

// Error implements error.
func (e *PatternError) Error() string {
	return "warren: " + e.describe()
}

// describe is the error without its package prefix, for panics that name
// the API they come from.
func (e *PatternError) describe() string {
	return fmt.Sprintf("malformed pattern %q: %s", e.Pattern, e.Reason)
}

// String returns the pattern as it was written.
func (p Pattern) String() string { return p.raw }

// Words returns the pattern's words. The slice must not be modified.
func (p Pattern) Words() []string { return p.words }

// Match reports whether routing key key matches the pattern, exactly as a
// RabbitMQ topic exchange decides whether to route key through a binding
// with this pattern.
func (p Pattern) Match(key string) bool {
	return matchWords(p.words, splitWords(key))
}

func matchWords(pat, key []string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case "#":
			rest := pat[1:]
			for i := 0; i <= len(key); i++ {
				if matchWords(rest, key[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(key) == 0 {
				return false
			}
		default:
			if len(key) == 0 || key[0] != pat[0] {
				return false
			}
		}
		pat, key = pat[1:], key[1:]
	}
	return len(key) == 0
}

// Compare orders patterns by specificity: it returns a positive number if p
// is more specific than q, a negative one if q is more specific, and 0 if
// they are the same pattern.
//
// Words are compared from the left; the first difference decides. A literal
// beats "*", and "*" beats "#". Two different literals are ordered by byte
// value so that the order is total. When one pattern ends where the other
// goes on, the end ranks between "*" and "#": "a" beats "a.#", and "a.*"
// beats "a".
func (p Pattern) Compare(q Pattern) int {
	n := min(len(p.words), len(q.words))
	for i := 0; i < n; i++ {
		a, b := p.words[i], q.words[i]
		if a == b {
			continue
		}
		ra, rb := wordRank(a), wordRank(b)
		if ra != rb {
			return ra - rb
		}
		// Two different literals: order by bytes, reversed so that the
		// result is stable and total (it never decides a real match, since
		// two different literals cannot match the same word).
		return strings.Compare(b, a)
	}
	switch {
	case len(p.words) == len(q.words):
		return 0
	case len(p.words) < len(q.words):
		return rankEnd - wordRank(q.words[n])
	default:
		return wordRank(p.words[n]) - rankEnd
	}
}

const (
	rankHash    = 0
	rankEnd     = 1
	rankStar    = 2
	rankLiteral = 3
)

func wordRank(w string) int {
	switch w {
	case "#":
		return rankHash
	case "*":
		return rankStar
	default:
		return rankLiteral
	}
}

// splitWords splits a key or pattern into words the way RabbitMQ does: the
// empty string has no words, and every '.' separates two words, empty ones
// included.
func splitWords(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}
