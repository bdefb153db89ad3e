package logging

import (
	"context"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

var nop = zap.NewNop()

func zapOrNop(l *zap.Logger) *zap.Logger {
	if l == nil {
		return nop
	}
	return l
}

// zapSink writes lines to a *zap.Logger.
type zapSink struct{ l *zap.Logger }

var zapLevels = [...]zapcore.Level{levelDebug: zapcore.DebugLevel, levelInfo: zapcore.InfoLevel,
	levelWarn: zapcore.WarnLevel, levelError: zapcore.ErrorLevel}

func (s zapSink) enabled(_ context.Context, l level) bool { return s.l.Core().Enabled(zapLevels[l]) }

func (s zapSink) write(_ context.Context, l level, msg string, fs []field) {
	if ce := s.l.Check(zapLevels[l], msg); ce != nil {
		ce.Write(zapFields(fs)...)
	}
}

func zapWith(l *zap.Logger, fs []field) *zap.Logger { return l.With(zapFields(fs)...) }

func zapFields(fs []field) []zap.Field {
	out := make([]zap.Field, len(fs))
	for i, f := range fs {
		switch f.kind {
		case kindInt:
			out[i] = zap.Int64(f.key, f.num)
		case kindBool:
			out[i] = zap.Bool(f.key, f.num != 0)
		case kindDuration:
			out[i] = zap.Duration(f.key, time.Duration(f.num))
		case kindBytes:
			out[i] = zap.ByteString(f.key, f.bytes)
		default:
			out[i] = zap.String(f.key, f.str)
		}
	}
	return out
}
