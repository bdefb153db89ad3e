package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/warren-mq/warren/asyncapi"
)

func runAsyncAPI(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("warren asyncapi", flag.ContinueOnError)
	file := fs.String("file", "", "a service's description (JSON from warren.WriteDescription); - reads stdin (required)")
	version := fs.String("version", "0.0.0", "the `version` of the service's API, for info.version")
	title := fs.String("title", "", "info.title (default: the description's service name)")
	server := fs.String("server", "", "add a server at `host:port` (protocol amqp)")
	vhost := fs.String("vhost", "/", "the virtual host the bindings name")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: warren asyncapi --file F [--version V] [--title T] [--server HOST:PORT] [--vhost /]\n\n")
		fmt.Fprintln(fs.Output(), "Prints the AsyncAPI 3.0 document of a service from its description: a channel per")
		fmt.Fprintln(fs.Output(), "exchange and routing key, receive operations for its routes, send operations for")
		fmt.Fprintln(fs.Output(), "what it publishes (warren.WithSend, warren.WithRequest), replies for TypedReply")
		fmt.Fprintln(fs.Output(), "routes and requests, JSON Schema for typed payloads, and AMQP bindings.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if code, ok := parse(e, fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	case *file == "":
		return usageError(e, fs, "--file is required")
	}
	d, err := readDescription(*file)
	if err != nil {
		return fail(e, fmt.Errorf("%s: %w", fs.Name(), err))
	}
	opts := []asyncapi.Option{asyncapi.WithVersion(*version)}
	if *title != "" {
		opts = append(opts, asyncapi.WithTitle(*title))
	}
	if *server != "" || *vhost != "/" {
		opts = append(opts, asyncapi.WithServer(*server, *vhost))
	}
	return exitStatus(e, asyncapi.Write(e.stdout, d, opts...))
}
