package logging

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/redact"
)

// This file holds every logging decision (which lines, at which level,
// with which fields, redacted how); zap.go and slog.go only translate
// them into their logger's types.

// level is a line's severity, mapped to zap's and slog's levels.
type level int8

const (
	levelDebug level = iota
	levelInfo
	levelWarn
	levelError
)

type fieldKind uint8

const (
	kindString fieldKind = iota
	kindInt
	kindBool
	kindDuration
	kindBytes
)

// field is one key/value of a line, in a form both front-ends convert
// without reflection.
type field struct {
	key   string
	kind  fieldKind
	str   string
	num   int64
	bytes []byte
}

func stringField(k, v string) field  { return field{key: k, kind: kindString, str: v} }
func intField(k string, v int) field { return field{key: k, kind: kindInt, num: int64(v)} }
func durationField(k string, d time.Duration) field {
	return field{key: k, kind: kindDuration, num: int64(d)}
}
func bytesField(k string, b []byte) field { return field{key: k, kind: kindBytes, bytes: b} }

func boolField(k string, v bool) field {
	f := field{key: k, kind: kindBool}
	if v {
		f.num = 1
	}
	return f
}

// sink is a logger front-end: zap or slog.
type sink interface {
	enabled(ctx context.Context, l level) bool
	write(ctx context.Context, l level, msg string, fields []field)
}

// msgFields are the fields every line about a message carries.
type msgFields struct {
	queue, route, key, id, corrID string
	attempt                       int
	span                          trace.SpanContext // trace_id and span_id when valid
}

func fieldsOf(ctx context.Context, msg *warren.Message) msgFields {
	return msgFields{queue: msg.Queue, route: msg.Route, key: msg.RoutingKey,
		id: msg.MessageID, corrID: msg.CorrelationID, attempt: msg.Attempt,
		span: trace.SpanContextFromContext(ctx)}
}

func (f *msgFields) append(dst []field) []field {
	dst = append(dst,
		stringField("queue", f.queue),
		stringField("route", f.route),
		stringField("routing_key", f.key),
		stringField("message_id", f.id),
		stringField("correlation_id", f.corrID),
		intField("attempt", f.attempt),
	)
	if f.span.IsValid() {
		dst = append(dst, stringField("trace_id", f.span.TraceID().String()), stringField("span_id", f.span.SpanID().String()))
	}
	return dst
}

// levelOf is the level and text of a message's line by the outcome its
// handler asked for.
func levelOf(a warren.Action) (level, string) {
	switch a {
	case warren.ActionAck:
		return levelDebug, "message handled"
	case warren.ActionRetry:
		return levelWarn, "message failed"
	case warren.ActionRequeue:
		return levelWarn, "message requeued"
	case warren.ActionDrop:
		return levelInfo, "message dropped"
	default:
		return levelError, "message dead-lettered"
	}
}

// messageLine writes the line of a message whose handler returned err
// after running since start, unless its level is off or it is a skipped
// ack.
func messageLine(ctx context.Context, s sink, cfg *config, msg *warren.Message, err error, start time.Time) {
	out := warren.OutcomeOf(err)
	lvl, text := levelOf(out.Action)
	if !s.enabled(ctx, lvl) || (lvl == levelDebug && !cfg.logAck()) {
		return
	}
	f := fieldsOf(ctx, msg) // the correlation id may have been set inside
	fs := f.append(make([]field, 0, 13))
	fs = append(fs, stringField("outcome", out.Action.String()), durationField("duration", time.Since(start)))
	if out.Reason != "" {
		fs = append(fs, stringField("reason", out.Reason))
	}
	if err != nil {
		fs = append(fs, stringField("error", errText(err)))
		var pe *warren.PanicError
		if errors.As(err, &pe) {
			fs = append(fs, bytesField("stack", pe.Stack))
		}
	}
	s.write(ctx, lvl, text, fs)
}

// withErr appends err's redacted text; nothing when err is nil.
func withErr(fs []field, err error) []field {
	if err == nil {
		return fs
	}
	return append(fs, stringField("error", errText(err)))
}

// errText is err's text with credentials redacted. An Error method that
// panics (a nil pointer in an error interface) does not take the caller
// down.
func errText(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("<%T: Error panicked>", err)
		}
	}()
	return redact.Text(err.Error())
}
