// Command observability runs warren with its three observability
// middleware wired the way a service would: logging (zap), metrics
// (Prometheus, served on /metrics) and tracing (OpenTelemetry, spans
// printed by the stdout exporter).
//
// It dials RabbitMQ at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/),
// publishes a handful of order events, each in a trace of its own (some
// fail once and are retried through a wait queue, one fails for good and
// is dead-lettered, one follow-up event is published by a handler),
// consumes them, prints the trace ids it saw and the warren_ metrics, and
// exits, deleting the queues and exchange it declared (unless -keep; all
// are named after -prefix, default observability-example-<pid>):
//
//	go run ./examples/observability
//	go run ./examples/observability -serve -addr :9464   # then curl localhost:9464/metrics; Ctrl-C to stop
//
// Logs go to stderr; spans, traces and metrics to stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", ":9464", "address to serve /metrics on")
	serve := flag.Bool("serve", false, "keep consuming and serving /metrics until interrupted")
	spans := flag.Bool("spans", true, "print every span as JSON (the stdout exporter)")
	prefix := flag.String("prefix", fmt.Sprintf("observability-example-%d", os.Getpid()), "the start of every name the demo declares")
	keep := flag.Bool("keep", false, "leave the queues and exchange in the broker for inspection")
	flag.Parse()

	url := os.Getenv("AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, url, *prefix, *addr, *serve, *spans, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "observability:", err)
		stop()
		os.Exit(1)
	}
}

// runTimeout bounds the demo's wait for its messages to be settled.
const runTimeout = 30 * time.Second
