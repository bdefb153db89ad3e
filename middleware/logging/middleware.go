package logging

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

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
// handler's logger carries the same message fields and ids. What the transport finally did (a retry with
// no attempts left becomes a dead-letter) is logged by NewObserver. Mount
// Recover inside Middleware, and CorrelationID outside it. A nil logger logs
// nothing.
func Middleware(l *zap.Logger, opts ...Option) warren.Middleware {
	if l == nil {
		l = nop
	}
	cfg := &config{}
	for _, o := range opts {
		o.apply(cfg)
	}
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
			ml := &msgLogger{base: l, f: fieldsOf(ctx, msg)}
			start := time.Now()
			err := next.ServeMessage(context.WithValue(ctx, loggerKey{}, ml), msg)
			out := warren.OutcomeOf(err)
			lvl, text := levelOf(out.Action)
			if lvl == zapcore.DebugLevel && (!l.Core().Enabled(lvl) || !cfg.logAck()) {
				return err
			}
			if ce := l.Check(lvl, text); ce != nil {
				f := fieldsOf(ctx, msg) // the correlation id may have been set inside
				fs := f.append(make([]zap.Field, 0, 13))
				fs = append(fs, zap.Stringer("outcome", out.Action), zap.Duration("duration", time.Since(start)))
				if out.Reason != "" {
					fs = append(fs, zap.String("reason", out.Reason))
				}
				if err != nil {
					fs = append(fs, zap.String("error", errText(err)))
					var pe *warren.PanicError
					if errors.As(err, &pe) {
						fs = append(fs, zap.ByteString("stack", pe.Stack))
					}
				}
				ce.Write(fs...)
			}
			return err
		})
	}
}

func levelOf(a warren.Action) (zapcore.Level, string) {
	switch a {
	case warren.ActionAck:
		return zapcore.DebugLevel, "message handled"
	case warren.ActionRetry:
		return zapcore.WarnLevel, "message failed"
	case warren.ActionRequeue:
		return zapcore.WarnLevel, "message requeued"
	case warren.ActionDrop:
		return zapcore.InfoLevel, "message dropped"
	default:
		return zapcore.ErrorLevel, "message dead-lettered"
	}
}
