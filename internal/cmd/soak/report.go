package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"
)

// reporter prints, every interval, the publish and handle rates over the
// last interval, the heap and the goroutine count.
type reporter struct {
	out      io.Writer
	tr       *tracker
	obs      *observer
	start    time.Time
	interval time.Duration
	closes   func() int
}

func (r *reporter) run(ctx context.Context) {
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	last := time.Now()
	lastConf, lastOK := r.tr.confirmed.Load(), r.tr.successes.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			secs := now.Sub(last).Seconds()
			conf, ok := r.tr.confirmed.Load(), r.tr.successes.Load()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(r.out, "%6s  published %6.0f msg/s  handled %6.0f msg/s  failures %5d  retries %5d  dead-lettered %4d  closes %2d  heap %6.1f MB  goroutines %4d\n",
				now.Sub(r.start).Round(time.Second), float64(conf-lastConf)/secs, float64(ok-lastOK)/secs,
				r.tr.failures.Load(), r.obs.retries.Load(), r.obs.deadLetters.Load(), r.closes(),
				float64(ms.HeapAlloc)/(1<<20), runtime.NumGoroutine())
			last, lastConf, lastOK = now, conf, ok
		}
	}
}

// heapAfterGC returns the live heap in MB after a full collection.
func heapAfterGC() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// printSummary writes the final account.
func printSummary(w io.Writer, s summary, reasons map[string]int, elapsed time.Duration) {
	fmt.Fprintf(w, "\nsoak finished after %v\n", elapsed.Round(time.Second))
	fmt.Fprintf(w, "  sent           %8d  distinct message ids published\n", s.Sent)
	fmt.Fprintf(w, "  confirmed      %8d  (%d publishes failed and were sent again)\n", s.Confirmed, s.PublishRetries)
	fmt.Fprintf(w, "  handled        %8d  distinct ids handled successfully (%d handler calls, %d injected failures)\n",
		s.Handled, s.Calls, s.Failures)
	fmt.Fprintf(w, "  duplicates     %8d  successful handler calls beyond the first per id\n", s.Duplicates)
	fmt.Fprintf(w, "  dead-lettered  %8d  distinct ids in the DLQ (%d copies) by reason %v; not meant to: %d\n",
		s.DeadLettered, s.DeadLetterCopies, reasons, s.UnexpectedDead)
	fmt.Fprintf(w, "  lost           %8d  confirmed, neither handled nor dead-lettered", s.Lost)
	if s.Lost > 0 {
		fmt.Fprintf(w, " (e.g. %v)", s.LostIDs)
	}
	fmt.Fprintln(w)
}
