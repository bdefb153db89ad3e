// Command soak runs warren under steady load against the local RabbitMQ
// for a long time: publishers at a fixed rate with confirms, a consumer
// with a delayed-retry policy whose handler fails 1% of the time at random
// (and always for one message in poison-every, which ends in the DLQ),
// and, every close-every, a broker-side close of the soak's own
// connections (never anyone else's: the broker may be shared). Every
// report-every it prints the publish and handle rates, the heap and the
// goroutine count; at the end, the account: sent, confirmed, handled,
// duplicates, dead-lettered and lost, which must be 0 (the exit status is
// 1 otherwise).
//
//	go run ./internal/cmd/soak -duration 10m     # make soak
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// config is the soak's command line.
type config struct {
	url         string
	duration    time.Duration
	rate        int
	publishers  int
	workers     int
	prefetch    int
	failRate    float64
	poisonEvery uint64
	closeEvery  time.Duration
	reportEvery time.Duration
	drain       time.Duration
	size        int
	delays      []time.Duration
}

func parseFlags() config {
	var c config
	var delays string
	flag.StringVar(&c.url, "url", brokertest.URL(), "broker URL (default $AMQP_URL or the local broker)")
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "how long to publish")
	flag.IntVar(&c.rate, "rate", 500, "messages published per second")
	flag.IntVar(&c.publishers, "publishers", 8, "publishing goroutines")
	flag.IntVar(&c.workers, "workers", 16, "consumer workers")
	flag.IntVar(&c.prefetch, "prefetch", 128, "consumer prefetch")
	flag.Float64Var(&c.failRate, "fail", 0.01, "probability that a handler call fails")
	flag.Uint64Var(&c.poisonEvery, "poison-every", 1000, "one message in this many always fails and is dead-lettered (0: none)")
	flag.DurationVar(&c.closeEvery, "close-every", 30*time.Second, "close the soak's connections from the broker this often (0: never)")
	flag.DurationVar(&c.reportEvery, "report-every", 10*time.Second, "print rates this often")
	flag.DurationVar(&c.drain, "drain", 2*time.Minute, "how long to wait for the queues to drain after publishing stops")
	flag.IntVar(&c.size, "size", 256, "message body size in bytes")
	flag.StringVar(&delays, "retry", "200ms,1s,2s", "delayed-retry policy: the wait before each retry")
	flag.Parse()
	for _, s := range strings.Split(delays, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "soak: bad -retry delay %q\n", s)
			os.Exit(2)
		}
		c.delays = append(c.delays, d)
	}
	return c
}

// poison reports whether message id is one that fails every time.
func (c config) poison(id uint64) bool {
	return c.poisonEvery > 0 && id%c.poisonEvery == c.poisonEvery-1
}

func main() {
	cfg := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if s.Lost > 0 {
		os.Exit(1)
	}
}

// uniqueName returns a name for the soak's client, exchange and queues
// that no other run or test uses.
func uniqueName() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "warren-soak." + hex.EncodeToString(b[:])
}

func run(ctx context.Context, cfg config) (summary, error) {
	goroutines, heap := runtime.NumGoroutine(), heapAfterGC()
	name := uniqueName()
	fmt.Printf("soak %s: %v at %d msg/s against %s; handler failures %.1f%%, one message in %d always fails; retry %v; connections closed every %v\n",
		name, cfg.duration, cfg.rate, brokertest.Redact(cfg.url), cfg.failRate*100, cfg.poisonEvery, cfg.delays, cfg.closeEvery)

	h, err := newHarness(ctx, cfg, name)
	if err != nil {
		return summary{}, err
	}
	defer h.deleteTopology()
	elapsed := h.run(ctx)
	s, reasons, err := h.finish()
	if err != nil {
		return s, err
	}
	printSummary(os.Stdout, s, reasons, elapsed)
	fmt.Printf("  after close: goroutines %d (baseline %d), heap after GC %.1f MB (baseline %.1f MB)\n",
		runtime.NumGoroutine(), goroutines, heapAfterGC(), heap)
	return s, nil
}
