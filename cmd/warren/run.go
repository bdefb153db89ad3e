package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// env is what a command reads from its surroundings.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// command is one subcommand of warren: add new ones to commands.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

var commands = []command{
	{name: "dlq", summary: "list, show, replay or purge a dead-letter queue", run: runDLQ},
	{name: "routes", summary: "print a service's route patterns, most specific first", run: runRoutes},
	{name: "topology", summary: "print the exchanges, queues and bindings a service declares", run: runTopology},
}

// run runs warren with args (without the program name) and returns the
// exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "warren: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: warren <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "warren <command> -h" for a command's usage.`)
}
