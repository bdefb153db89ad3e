package main

import (
	"fmt"
	"io"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// printTraces writes, for each published event, its trace id and every
// delivery processed in that trace: the event, its retries and its
// follow-ups. Deliveries in no published trace are listed last.
func printTraces(w io.Writer, published []trace.TraceID, seen []sighting) {
	fmt.Fprintln(w, "\nTraces (one per published event; retries and follow-ups continue it):")
	shown := make([]bool, len(seen))
	for i, e := range events {
		fmt.Fprintf(w, "trace %s  published %s (%s)\n", published[i], e.id, e.key)
		for j, s := range seen {
			if s.trace == published[i] {
				printSighting(w, s)
				shown[j] = true
			}
		}
	}
	if i := slices.Index(shown, false); i >= 0 {
		fmt.Fprintln(w, "in no published trace:")
		for j, s := range seen {
			if !shown[j] {
				fmt.Fprintf(w, "  trace %s\n", s.trace)
				printSighting(w, s)
			}
		}
	}
}

func printSighting(w io.Writer, s sighting) {
	fmt.Fprintf(w, "    %-16s %-14s attempt %d  %s\n", s.key, s.id, s.attempt, s.outcome)
}
