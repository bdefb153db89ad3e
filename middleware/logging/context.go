package logging

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/warren-mq/warren"
)

type loggerKey struct{}

var nop = zap.NewNop()

// FromContext returns the per-message logger Middleware put in ctx, with
// the fields queue, route, routing_key, message_id, correlation_id and
// attempt; or the logger NewContext put there; or a no-op logger. It is
// safe to keep and use after the handler returned.
//
//	logging.FromContext(ctx).Info("charging card", zap.String("order", id))
func FromContext(ctx context.Context) *zap.Logger {
	switch l := ctx.Value(loggerKey{}).(type) {
	case *msgLogger:
		return l.logger()
	case *zap.Logger:
		return l
	default:
		return nop
	}
}

// NewContext returns a context whose FromContext is l, for tests and for
// code outside a handler.
func NewContext(ctx context.Context, l *zap.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// msgLogger builds the per-message logger on first use only: a handler that
// never logs costs one small allocation. It copies what it logs from the
// message, so it stays valid after the message is recycled.
type msgLogger struct {
	base *zap.Logger
	f    msgFields
	once sync.Once
	l    *zap.Logger
}

func (m *msgLogger) logger() *zap.Logger {
	m.once.Do(func() { m.l = m.base.With(m.f.append(nil)...) })
	return m.l
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

func (f *msgFields) append(dst []zap.Field) []zap.Field {
	dst = append(dst,
		zap.String("queue", f.queue),
		zap.String("route", f.route),
		zap.String("routing_key", f.key),
		zap.String("message_id", f.id),
		zap.String("correlation_id", f.corrID),
		zap.Int("attempt", f.attempt),
	)
	if f.span.IsValid() {
		dst = append(dst, zap.Stringer("trace_id", f.span.TraceID()), zap.Stringer("span_id", f.span.SpanID()))
	}
	return dst
}
