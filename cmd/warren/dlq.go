package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/redact"
)

// dlqOptions are the flags of the dlq subcommands.
type dlqOptions struct {
	sub    string
	queue  string // the dead-letter queue, resolved
	limit  int
	reason string
	id     string
	dryRun bool
	yes    bool
	json   bool
	url    string
	mgmt   string
}

// dlqSubs are the subcommands of dlq, their summary, their default
// --limit (-1: no --limit flag) and whether they take --dry-run.
var dlqSubs = []struct {
	name, summary string
	limit         int
	dryRun        bool
	run           func(ctx context.Context, e *env, b *broker, o *dlqOptions) int
}{
	{"list", "one line per message: id, reason, attempt, time, origin, error", 100, false, dlqList},
	{"show", "messages in full: headers, stack trace, body", 10, false, dlqShow},
	{"replay", "send messages back to the queue that failed them (through <queue>.retry.replay; dispatched by their original routing key)", 0, true, dlqReplay},
	{"purge", "delete every message", -1, true, dlqPurge},
}

func dlqUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: warren dlq <list|show|replay|purge> --queue Q [flags]")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range dlqSubs {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Q is a work queue (its dead-letter queue is Q.dlq) or a name ending in .dlq.")
	fmt.Fprintln(w, `Run "warren dlq <subcommand> -h" for its flags.`)
}

func runDLQ(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		dlqUsage(e.stderr)
		return exitUsage
	}
	if isHelp(args[0]) || args[0] == "help" {
		dlqUsage(e.stdout)
		return exitOK
	}
	for _, s := range dlqSubs {
		if s.name != args[0] {
			continue
		}
		o := &dlqOptions{sub: s.name}
		fs := flag.NewFlagSet("warren dlq "+s.name, flag.ContinueOnError)
		fs.Usage = func() {
			fmt.Fprintf(fs.Output(), "usage: warren dlq %s --queue Q [flags]\n\n%s.\n\nflags:\n", s.name, s.summary)
			fs.PrintDefaults()
		}
		fs.StringVar(&o.queue, "queue", "", "the work `queue` (its dead-letter queue is <queue>.dlq), or a dead-letter queue (required)")
		fs.StringVar(&o.url, "url", "", "broker `URL` (default $AMQP_URL, else "+redact.Text(defaultURL)+")")
		fs.BoolVar(&o.json, "json", false, "print JSON instead of text")
		if s.name != "purge" {
			fs.IntVar(&o.limit, "limit", s.limit, "at most `N` messages (0: all)")
			fs.StringVar(&o.reason, "reason", "", "only messages dead-lettered for this `reason` (error, permanent, decode, no-route, requeue-limit, rejected, ...)")
			fs.StringVar(&o.id, "id", "", "only the message with this message `id`")
		}
		if s.dryRun {
			fs.BoolVar(&o.dryRun, "dry-run", false, "show what would be done, change nothing")
		}
		if s.name == "replay" {
			fs.StringVar(&o.mgmt, "management", "", "management API `URL` the dry run checks routing with (default http://<broker host>:15672; off: none)")
		}
		if s.name == "purge" {
			fs.BoolVar(&o.yes, "yes", false, "purge without asking (required when stdin is not a terminal)")
		}
		if code, ok := parse(e, fs, args[1:]); !ok {
			return code
		}
		switch {
		case fs.NArg() > 0:
			return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
		case o.queue == "":
			return usageError(e, fs, "--queue is required")
		case o.limit < 0:
			return usageError(e, fs, "--limit must be 0 (all) or more")
		}
		if !deadletter.IsQueueName(o.queue) {
			o.queue = warren.DeadLetterQueue(o.queue)
		}
		if s.name == "purge" && !o.yes && !o.dryRun && !e.terminal {
			return usageError(e, fs, "stdin is not a terminal to confirm on: pass --yes to purge %s", o.queue)
		}
		b, err := connect(brokerURL(o.url, e.getenv), "warren dlq "+s.name, o.mgmt)
		if err != nil {
			return fail(e, err)
		}
		defer b.close()
		return s.run(ctx, e, b, o)
	}
	fmt.Fprintf(e.stderr, "warren dlq: unknown subcommand %q\n\n", args[0])
	dlqUsage(e.stderr)
	return exitUsage
}

func (o *dlqOptions) filter() deadletter.Filter {
	return deadletter.Filter{Limit: o.limit, Reason: o.reason, MessageID: o.id}
}

func dlqList(ctx context.Context, e *env, b *broker, o *dlqOptions) int {
	return listOrShow(ctx, e, b, o, false)
}

func dlqShow(ctx context.Context, e *env, b *broker, o *dlqOptions) int {
	return listOrShow(ctx, e, b, o, true)
}

func listOrShow(ctx context.Context, e *env, b *broker, o *dlqOptions, full bool) int {
	entries, err := b.inspector.List(ctx, o.queue, o.filter())
	if err != nil {
		return fail(e, err)
	}
	depth, err := b.inspector.Depth(ctx, o.queue)
	if err != nil {
		return fail(e, err)
	}
	switch {
	case o.json:
		err = writeJSON(e.stdout, listJSON(o.queue, depth, entries, full))
	case full:
		err = writeShow(e.stdout, o.queue, depth, entries)
	default:
		err = writeList(e.stdout, o.queue, depth, entries)
	}
	if err != nil {
		return fail(e, err)
	}
	return exitOK
}

func dlqReplay(ctx context.Context, e *env, b *broker, o *dlqOptions) int {
	res, err := b.inspector.Replay(ctx, o.queue, deadletter.ReplayOptions{Filter: o.filter(), DryRun: o.dryRun})
	var notes map[int]string
	if err == nil && o.dryRun {
		res, notes, err = b.checkReplay(ctx, o.queue, res)
	}
	var werr error
	if o.json {
		werr = writeJSON(e.stdout, replayJSON(o.queue, res, notes))
	} else {
		werr = writeReplay(e.stdout, o.queue, res, notes)
	}
	if werr != nil {
		return fail(e, werr)
	}
	if err != nil {
		return fail(e, err)
	}
	return exitOK
}

func dlqPurge(ctx context.Context, e *env, b *broker, o *dlqOptions) int {
	n, err := b.inspector.Depth(ctx, o.queue)
	if err != nil {
		return fail(e, err)
	}
	if !o.dryRun {
		if !o.yes {
			yes, err := confirm(e, fmt.Sprintf("purge %s from %s? [y/N] ", plural(n, "message"), o.queue))
			if err != nil {
				return fail(e, err)
			}
			if !yes {
				return fail(e, fmt.Errorf("not purged: %s keeps its %s", o.queue, plural(n, "message")))
			}
		}
		if n, err = b.inspector.Purge(ctx, o.queue); err != nil {
			return fail(e, err)
		}
	}
	if o.json {
		err = writeJSON(e.stdout, purgeJSON{Queue: o.queue, Purged: n, DryRun: o.dryRun})
	} else {
		verb := "purged"
		if o.dryRun {
			verb = "would purge"
		}
		_, err = fmt.Fprintf(e.stdout, "%s %s from %s\n", verb, plural(n, "message"), o.queue)
	}
	if err != nil {
		return fail(e, err)
	}
	return exitOK
}

// confirm asks question on stderr and reads the answer from stdin: only
// "y" or "yes" is a yes.
func confirm(e *env, question string) (bool, error) {
	fmt.Fprint(e.stderr, question)
	answer, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
