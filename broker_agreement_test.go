package warren_test

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// sequences returns every dot-joined sequence of 0..maxLen words from words.
func sequences(words []string, maxLen int) []string {
	out := []string{""}
	level := [][]string{{}}
	for n := 1; n <= maxLen; n++ {
		var next [][]string
		for _, prefix := range level {
			for _, w := range words {
				seq := append(append([]string(nil), prefix...), w)
				next = append(next, seq)
				out = append(out, strings.Join(seq, "."))
			}
		}
		level = next
	}
	return dedupe(out)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// TestMatcherAgreesWithBroker binds one queue per pattern to a real topic
// exchange, publishes every key, and checks that the queues the broker
// delivered each key to are exactly the patterns warren says match it, and
// that the router dispatches the key to one of them.
func TestMatcherAgreesWithBroker(t *testing.T) {
	ch := brokertest.Channel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	patterns := dedupe(append(sequences([]string{"a", "b", "*", "#", ""}, 3), matchCasesForBroker...))
	keys := append(sequences([]string{"a", "b", "c", ""}, 3), sequences([]string{"x", "a", ""}, 4)...)
	keys = dedupe(append(keys, "Order.Created", "a.b.c.d", "x.a.y.b", "b.b.b.b"))
	if len(patterns) < 100 || len(keys) < 100 {
		t.Fatalf("table too small: %d patterns, %d keys", len(patterns), len(keys))
	}

	exchange := brokertest.Name(t, "topic")
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteExchanges(t, exchange)
	router := warren.NewRouter()
	queues := make([]string, len(patterns))
	for i, p := range patterns {
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.QueueBind(q.Name, p, exchange, false, nil); err != nil {
			t.Fatalf("bind %q: %v", p, err)
		}
		queues[i] = q.Name
		router.HandleFunc(p, func(context.Context, *warren.Message) error { return nil })
	}

	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	var confirms []*amqp.DeferredConfirmation
	for i, k := range keys {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, k, false, false,
			amqp.Publishing{Body: []byte(strconv.Itoa(i))})
		if err != nil {
			t.Fatal(err)
		}
		confirms = append(confirms, dc)
	}
	for _, dc := range confirms {
		if ok, err := dc.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("publish not confirmed: %v", err)
		}
	}

	delivered := make(map[string][]string) // key -> patterns the broker routed it to
	for i, q := range queues {
		for {
			d, ok, err := ch.Get(q, true)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			k := keys[mustAtoi(t, string(d.Body))]
			delivered[k] = append(delivered[k], patterns[i])
		}
	}

	checked := 0
	for _, k := range keys {
		var want []string
		for _, p := range patterns {
			if warren.MustParsePattern(p).Match(k) {
				want = append(want, p)
			}
		}
		got := delivered[k]
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("key %q: broker routed to %q, warren matches %q", k, got, want)
		}
		best, ok := router.Match(k)
		if ok != (len(got) > 0) || (ok && !contains(got, best)) {
			t.Errorf("key %q: router picked %q (%v), broker routed to %q", k, best, ok, got)
		}
		checked++
	}
	t.Logf("%d patterns x %d keys agree with the broker", len(patterns), checked)
}

// matchCasesForBroker adds the hand-written awkward patterns.
var matchCasesForBroker = []string{"#.#", "a.#.b", "*.*", "a..b", ".", "a.", "#.*.#", "Order.*", "*.Created", "#.b.#"}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
