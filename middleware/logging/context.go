package logging

import (
	"context"

	"go.uber.org/zap"
)

// FromContext returns the per-message logger Middleware put in ctx, with
// the fields queue, route, routing_key, message_id, correlation_id and
// attempt (and trace_id, span_id); or the logger NewContext put there; or
// a no-op logger. It is safe to keep and use after the handler returned.
//
//	logging.FromContext(ctx).Info("charging card", zap.String("order", id))
func FromContext(ctx context.Context) *zap.Logger {
	if l, ok := fromContext[*zap.Logger](ctx); ok && l != nil {
		return l
	}
	return nop
}

// NewContext returns a context whose FromContext is l, for tests and for
// code outside a handler.
func NewContext(ctx context.Context, l *zap.Logger) context.Context {
	return newContext(ctx, l)
}
