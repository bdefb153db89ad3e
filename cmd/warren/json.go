package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/deadletter"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type listOutput struct {
	Queue    string        `json:"queue"`
	Depth    int           `json:"depth"`
	Messages []entryOutput `json:"messages"`
}

// entryOutput is an Entry with, for show, its headers and body.
type entryOutput struct {
	deadletter.Entry
	Headers    map[string]any `json:"headers,omitempty"`
	Body       *string        `json:"body,omitempty"`
	BodyBase64 string         `json:"body_base64,omitempty"`
	// Note says what a dry run could not check of this message.
	Note string `json:"note,omitempty"`
}

func entryJSON(e deadletter.Entry, full bool) entryOutput {
	out := entryOutput{Entry: e}
	if !full {
		return out
	}
	out.Headers = jsonTable(e.Headers)
	switch {
	case len(e.Body) == 0:
	case utf8.Valid(e.Body):
		s := string(e.Body)
		out.Body = &s
	default:
		out.BodyBase64 = base64.StdEncoding.EncodeToString(e.Body)
	}
	return out
}

func listJSON(queue string, depth int, entries []deadletter.Entry, full bool) listOutput {
	out := listOutput{Queue: queue, Depth: depth, Messages: make([]entryOutput, len(entries))}
	for i, e := range entries {
		out.Messages[i] = entryJSON(e, full)
	}
	return out
}

type replayOutput struct {
	Queue    string          `json:"queue"`
	DryRun   bool            `json:"dry_run"`
	Replayed []entryOutput   `json:"replayed"`
	Failed   []failureOutput `json:"failed"`
}

type failureOutput struct {
	Message entryOutput `json:"message"`
	Error   string      `json:"error"`
}

func replayJSON(queue string, res deadletter.ReplayResult, notes map[int]string) replayOutput {
	out := replayOutput{Queue: queue, DryRun: res.DryRun, Replayed: []entryOutput{}, Failed: []failureOutput{}}
	for i, e := range res.Replayed {
		o := entryJSON(e, false)
		o.Note = notes[i]
		out.Replayed = append(out.Replayed, o)
	}
	for _, f := range res.Failed {
		out.Failed = append(out.Failed, failureOutput{Message: entryJSON(f.Entry, false), Error: message(f.Err)})
	}
	return out
}

type purgeJSON struct {
	Queue  string `json:"queue"`
	Purged int    `json:"purged"`
	DryRun bool   `json:"dry_run"`
}

// jsonTable converts AMQP header values to values encoding/json always
// encodes: NaN and infinities, which it refuses, become strings.
func jsonTable(t amqp.Table) map[string]any {
	if t == nil {
		return nil
	}
	out := make(map[string]any, len(t))
	for k, v := range t {
		out[k] = jsonValue(v)
	}
	return out
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case amqp.Table:
		return jsonTable(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Sprint(x)
		}
	}
	return v
}
