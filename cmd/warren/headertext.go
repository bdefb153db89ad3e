package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// headerValue renders an AMQP header value for a person: times in RFC
// 3339, tables as k=v lists in key order, arrays in brackets, bytes by
// size.
func headerValue(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case amqp.Table:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + headerValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = headerValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []byte:
		return plural(len(x), "byte") + " of binary"
	case string:
		return x
	case nil:
		return "(void)"
	default:
		return fmt.Sprint(x)
	}
}

// writeDeaths renders the broker's x-death header one death a line, most
// recent first, as the broker orders it.
func writeDeaths(w io.Writer, raw any, h amqp.Table) {
	deaths := warren.Deaths(h)
	if len(deaths) == 0 {
		fmt.Fprintf(w, "    x-death:  %s\n", line(headerValue(raw), 2*errorColumn))
		return
	}
	fmt.Fprintln(w, "    x-death:")
	for _, d := range deaths {
		s := fmt.Sprintf("%s from queue %s, %s", orDash(d.Reason), orDash(d.Queue), times(d.Count))
		if d.Exchange != "" || len(d.RoutingKeys) > 0 {
			ex := d.Exchange
			if ex == "" {
				ex = "(default)"
			}
			s += fmt.Sprintf(", published to %s with %s", ex, strings.Join(d.RoutingKeys, ", "))
		}
		if !d.Time.IsZero() {
			s += ", last at " + when(d.Time)
		}
		fmt.Fprintf(w, "      - %s\n", line(s, 1024))
	}
}

func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
