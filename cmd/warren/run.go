package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"golang.org/x/term"
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
	stdin          io.Reader
	stdout, stderr io.Writer
	// terminal reports whether stdin is a terminal a person answers
	// questions on.
	terminal bool
	// json is set by a command's --json flag: errors are then JSON too.
	json bool
}

// command is one subcommand of warren: add new ones to commands.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

var commands = []command{
	{name: "dlq", summary: "list, show, replay or purge a dead-letter queue", run: runDLQ},
	{name: "routes", summary: "print a service's route patterns, most specific first", run: runRoutes},
	{name: "topology", summary: "print the exchanges, queues and bindings a service declares; --check compares them with the broker", run: runTopology},
	{name: "asyncapi", summary: "print a service's AsyncAPI 3.0 document", run: runAsyncAPI},
	{name: "version", summary: "print warren's version", run: runVersion},
}

// run runs warren with args (without the program name) and returns the
// exit status.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	if isHelp(args[0]) || args[0] == "help" {
		usage(e.stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "warren: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

// osEnv is the environment of the real process.
func osEnv() *env {
	return &env{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, terminal: isTerminal(os.Stdin)}
}

// isTerminal reports whether f is a terminal (not a pipe, a file or
// /dev/null).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
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
