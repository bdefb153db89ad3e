// Command warren works with warren services on RabbitMQ from a shell.
//
//	warren dlq list    --queue orders                 # what is in orders.dlq, and why
//	warren dlq show    --queue orders --id 7f3a...    # one message in full
//	warren dlq replay  --queue orders --reason error  # back to where it was published
//	warren dlq purge   --queue orders                 # empty orders.dlq
//
// The broker is --url, else $AMQP_URL, else amqp://guest:guest@127.0.0.1:5672/.
// Passwords are never printed. Output is aligned for a terminal; --json
// prints JSON for scripts. The exit status is 0 on success, 1 when the
// operation failed (or left messages behind) and 2 for a usage error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
