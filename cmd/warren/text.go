package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/warren-mq/warren/deadletter"
)

// Widths of cut columns and blocks in text output.
const (
	errorColumn = 72
	maxBodyText = 4096
)

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func writeList(w io.Writer, queue string, depth int, entries []deadletter.Entry) error {
	if len(entries) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, "MESSAGE ID\tREASON\tATTEMPT\tFAILED AT\tORIGIN\tSIZE\tERROR")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
				orDash(line(e.MessageID, 40)), orDash(line(e.Reason, 20)), attempt(e.Attempt), when(e.FailedAt),
				origin(e), e.BodySize, orDash(line(e.Error, errorColumn)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, summary(queue, depth, len(entries)))
	return err
}

func summary(queue string, depth, shown int) string {
	switch {
	case depth == 0 && shown == 0:
		return queue + " is empty"
	case shown == 0:
		return fmt.Sprintf("no message matches in %s (%s)", queue, plural(depth, "message"))
	default:
		return fmt.Sprintf("%d of %s in %s", shown, plural(depth, "message"), queue)
	}
}

func writeShow(w io.Writer, queue string, depth int, entries []deadletter.Entry) error {
	for i, e := range entries {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "message %s (%d of %d)\n", orDash(line(e.MessageID, 200)), i+1, len(entries))
		tw := newTable(w)
		field := func(k, v string) {
			if v != "" {
				fmt.Fprintf(tw, "  %s:\t%s\n", k, v)
			}
		}
		field("reason", line(e.Reason, 200))
		field("error", line(e.Error, 10*errorColumn))
		field("attempt", attempt(e.Attempt))
		field("failed at", when(e.FailedAt))
		field("queue", line(e.Queue, 255))
		field("route", line(e.Route, 255))
		field("origin", origin(e))
		field("dead-lettered via", fmt.Sprintf("exchange %q, routing key %q", e.Exchange, e.RoutingKey))
		field("correlation id", line(e.CorrelationID, 200))
		field("content type", line(e.ContentType, 200))
		if !e.Timestamp.IsZero() {
			field("timestamp", when(e.Timestamp))
		}
		field("body size", plural(e.BodySize, "byte"))
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(e.Headers) > 0 {
			fmt.Fprintln(w, "  headers:")
			tw := newTable(w)
			keys := make([]string, 0, len(e.Headers))
			for k := range e.Headers {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if k == "x-death" {
					continue
				}
				fmt.Fprintf(tw, "    %s:\t%s\n", line(k, 200), line(headerValue(e.Headers[k]), 2*errorColumn))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if v, ok := e.Headers["x-death"]; ok {
				writeDeaths(w, v, e.Headers)
			}
		}
		if e.Stacktrace != "" {
			fmt.Fprintln(w, "  stack trace:")
			fmt.Fprintln(w, indent(block(e.Stacktrace, maxBodyText), "    "))
		}
		if len(e.Body) > 0 {
			fmt.Fprintln(w, "  body:")
			if utf8.Valid(e.Body) {
				fmt.Fprintln(w, indent(block(string(e.Body), maxBodyText), "    "))
			} else {
				fmt.Fprintf(w, "    (binary; --json shows it in base64)\n")
			}
		}
	}
	if len(entries) > 0 {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, summary(queue, depth, len(entries)))
	return err
}

func writeReplay(w io.Writer, queue string, res deadletter.ReplayResult, notes map[int]string) error {
	done, failed := "replayed", "FAILED"
	if res.DryRun {
		done, failed = "would replay", "WOULD FAIL"
	}
	if len(res.Replayed)+len(res.Failed) > 0 {
		tw := newTable(w)
		header := "STATUS\tMESSAGE ID\tREASON\tTO"
		if len(res.Failed)+len(notes) > 0 {
			header += "\tNOTE"
		}
		fmt.Fprintln(tw, header)
		for i, e := range res.Replayed {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", done, orDash(line(e.MessageID, 40)), orDash(line(e.Reason, 20)), origin(e), notes[i])
		}
		for _, f := range res.Failed {
			e := f.Entry
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", failed, orDash(line(e.MessageID, 40)), orDash(line(e.Reason, 20)), origin(e),
				line(message(f.Err), 2*errorColumn))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("%s %s from %s", done, plural(len(res.Replayed), "message"), queue)
	if res.DryRun {
		msg = "dry run: " + msg
	}
	if n := len(res.Failed); n > 0 {
		verb := "cannot"
		if res.DryRun {
			verb = "would not"
		}
		msg += fmt.Sprintf("; %d %s be replayed and stay%s there", n, verb, map[bool]string{true: "s", false: ""}[n == 1])
	}
	_, err := fmt.Fprintln(w, msg)
	return err
}

// origin renders where a message was first published.
func origin(e deadletter.Entry) string {
	if !e.HasOrigin {
		return "(unknown)"
	}
	ex := e.OriginalExchange
	if ex == "" {
		ex = "(default)"
	}
	return line(ex, 80) + " " + line(e.OriginalRoutingKey, 80)
}

func attempt(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// line makes s safe for one cell of a terminal table: control characters
// (escape sequences from a hostile header, tabs, newlines) become spaces,
// invalid UTF-8 becomes U+FFFD, runs of spaces collapse, and it is cut to n
// runes.
func line(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	runes, space := 0, false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
				runes++
			}
			space = true
			continue
		}
		space = false
		if runes >= n {
			return strings.TrimRight(b.String(), " ") + "..."
		}
		b.WriteRune(r)
		runes++
	}
	return strings.TrimRight(b.String(), " ")
}

// block makes s safe for a terminal as a block of lines: control
// characters other than newlines become spaces, and it is cut to n bytes.
func block(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	cut := len(s) > n
	if cut {
		s = s[:n]
		s = strings.ToValidUTF8(s, "")
	}
	s = strings.Map(func(r rune) rune {
		if r != '\n' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimRight(s, "\n"))
	if cut {
		s += fmt.Sprintf("\n... (cut at %d bytes)", n)
	}
	return s
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
