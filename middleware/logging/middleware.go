package logging

import (
	"go.uber.org/zap"

	"github.com/warren-mq/warren"
)

// Middleware puts a per-message logger in the handler's context (see
// FromContext) and logs one line per message when its handler returns:
//
//	r := warren.NewRouter()
//	r.Use(middleware.CorrelationID, logging.Middleware(logger, logging.DisableAcks()))
//
// The line's level follows the outcome the handler asked for
// (warren.OutcomeOf): debug for ack, warn for retry and requeue, error for
// dead-letter, info for drop. It carries the message fields, trace_id and
// span_id when the context holds a span (mount tracing.Middleware outside
// Middleware), outcome, reason (for dead-letters), duration, and error
// with credentials redacted (and the stack of a recovered panic). The
// handler's logger carries the same message fields and ids. What the
// transport finally did (a retry with no attempts left becomes a
// dead-letter) is logged by NewObserver. Mount Recover inside Middleware,
// and CorrelationID outside it. A nil logger logs nothing. SlogMiddleware
// is the same for log/slog.
func Middleware(l *zap.Logger, opts ...Option) warren.Middleware {
	l = zapOrNop(l)
	return middleware(&frontEnd[*zap.Logger]{base: l, sink: zapSink{l}, with: zapWith}, opts)
}
