// Command warren works with warren services on RabbitMQ from a shell.
//
//	warren dlq list    --queue orders                 # what is in orders.dlq, and why
//	warren dlq show    --queue orders --id 7f3a...    # one message in full
//	warren dlq replay  --queue orders --reason error  # back to where it was published
//	warren dlq replay  --queue orders --dry-run       # what would move, and what the broker would refuse
//	warren dlq purge   --queue orders [--yes]         # empty orders.dlq (asks first)
//	warren routes      --file desc.json               # a service's routes, most specific first
//	warren topology    --file desc.json               # the exchanges, queues and bindings it declares
//	warren topology    --file desc.json --check       # ... compared with what the broker has
//	warren asyncapi    --file desc.json               # its AsyncAPI 3.0 document
//	warren version                                    # the module version warren was built from
//
// routes, topology and asyncapi read a service's description, the JSON
// that warren.WriteDescription prints (a service prints it behind a flag of
// its own); routes and topology can also compute the event-stream
// convention from --service and --routes.
//
// topology --check asks the broker. With the management plugin enabled
// (its HTTP API, by default on port 15672 of the broker's host, with the
// AMQP URL's user and password) it compares every exchange (kind, durable,
// arguments), queue (durable, arguments) and binding. Without it, it
// checks by passive declares that every exchange and queue exists, and
// says that kinds, arguments and bindings cannot be checked that way.
//
// dlq replay --dry-run checks what the broker would refuse: a missing
// exchange or queue always (passive declares), and a routing key no
// binding routes when the management API can be read; without it the
// output says that routing was not checked.
//
// The broker is --url, else $AMQP_URL, else amqp://guest:guest@127.0.0.1:5672/.
// Passwords are never printed. Every command's -h prints its usage to
// stdout and exits 0. Output is aligned for a terminal; --json prints JSON
// for scripts, and errors as {"error": "..."} on stderr. The exit status is
// 0 on success, 1 when the operation failed (or left messages behind, or
// found drift) and 2 for a usage error. dlq purge asks for confirmation on
// a terminal and refuses to run without --yes when stdin is not one.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], osEnv())
	stop()
	os.Exit(code)
}
