package warren_test

import (
	"strings"
	"testing"

	"github.com/warren-mq/warren"
)

func TestNewMessageIDIsUniqueAndShaped(t *testing.T) {
	seen := make(map[string]bool)
	var prefix string
	for i := 0; i < 1000; i++ {
		id := warren.NewMessageID()
		if seen[id] {
			t.Fatalf("id %q returned twice", id)
		}
		seen[id] = true
		p, n, ok := strings.Cut(id, "-")
		if !ok || len(p) != 16 || n == "" {
			t.Fatalf("id %q is not <16 hex digits>-<counter>", id)
		}
		if prefix != "" && p != prefix {
			t.Fatalf("prefix changed within a process: %q then %q", prefix, p)
		}
		prefix = p
	}
}
