package logging

import (
	"context"
	"log/slog"
	"time"

	"github.com/warren-mq/warren"
)

// The log/slog front-end: the same lines, levels and fields as the zap
// one, for services on the standard library's logger.

var slogNop = slog.New(slog.DiscardHandler)

func slogOrNop(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slogNop
	}
	return l
}

// SlogMiddleware is Middleware for log/slog: it puts a per-message
// *slog.Logger in the handler's context (see SlogFromContext) and logs one
// line per message with the same levels, messages and fields. The line is
// written with the handler's context, so a context-aware slog.Handler sees
// the span. A nil logger logs nothing.
//
//	r.Use(middleware.CorrelationID, logging.SlogMiddleware(slog.Default()))
func SlogMiddleware(l *slog.Logger, opts ...Option) warren.Middleware {
	l = slogOrNop(l)
	return middleware(&frontEnd[*slog.Logger]{base: l, sink: slogSink{l}, with: slogWith}, opts)
}

// NewSlogObserver returns an Observer that logs to l (see Observer); a nil
// l logs nothing.
func NewSlogObserver(l *slog.Logger) *Observer { return &Observer{s: slogSink{slogOrNop(l)}} }

// SlogFromContext returns the per-message logger SlogMiddleware put in ctx
// (the fields of FromContext), or the logger NewSlogContext put there, or a
// logger that discards everything. It is safe to keep and use after the
// handler returned.
//
//	logging.SlogFromContext(ctx).Info("charging card", "order", id)
func SlogFromContext(ctx context.Context) *slog.Logger {
	if l, ok := fromContext[*slog.Logger](ctx); ok && l != nil {
		return l
	}
	return slogNop
}

// NewSlogContext returns a context whose SlogFromContext is l.
func NewSlogContext(ctx context.Context, l *slog.Logger) context.Context {
	return newContext(ctx, l)
}

// slogSink writes lines to a *slog.Logger.
type slogSink struct{ l *slog.Logger }

var slogLevels = [...]slog.Level{levelDebug: slog.LevelDebug, levelInfo: slog.LevelInfo,
	levelWarn: slog.LevelWarn, levelError: slog.LevelError}

func (s slogSink) enabled(ctx context.Context, l level) bool { return s.l.Enabled(ctx, slogLevels[l]) }

func (s slogSink) write(ctx context.Context, l level, msg string, fs []field) {
	s.l.LogAttrs(ctx, slogLevels[l], msg, slogAttrs(fs)...)
}

func slogWith(l *slog.Logger, fs []field) *slog.Logger {
	attrs := slogAttrs(fs)
	args := make([]any, len(attrs))
	for i, a := range attrs {
		args[i] = a
	}
	return l.With(args...)
}

func slogAttrs(fs []field) []slog.Attr {
	out := make([]slog.Attr, len(fs))
	for i, f := range fs {
		switch f.kind {
		case kindInt:
			out[i] = slog.Int64(f.key, f.num)
		case kindBool:
			out[i] = slog.Bool(f.key, f.num != 0)
		case kindDuration:
			out[i] = slog.Duration(f.key, time.Duration(f.num))
		case kindBytes:
			out[i] = slog.String(f.key, string(f.bytes))
		default:
			out[i] = slog.String(f.key, f.str)
		}
	}
	return out
}
