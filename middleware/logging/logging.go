// Package logging logs warren messages and transport events with zap or
// log/slog.
//
// Middleware puts a per-message *zap.Logger in the handler's context
// (FromContext) and writes one line per message at a level chosen by its
// outcome; NewObserver logs what only the transport knows (connection state,
// failed publishes, dead-letters decided by retry policy). SlogMiddleware,
// SlogFromContext and NewSlogObserver are the same for *slog.Logger: the
// lines, levels and fields are decided once (line.go) and each logger is a
// thin front-end. Per-message lines carry trace_id and span_id when the
// context holds a span. Nothing either logs carries credentials: names and
// errors go through warren's redaction rule (URL passwords and password=...
// pairs hidden).
package logging

import "sync/atomic"

// Option configures Middleware.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	noAcks   bool
	ackEvery uint64 // log one ack line in ackEvery; 0 or 1 logs all
	acks     atomic.Uint64
}

// DisableAcks turns off the line for acked messages; failures, dead-letters,
// requeues and drops are still logged. The per-message logger in the
// context is unaffected.
func DisableAcks() Option { return optionFunc(func(c *config) { c.noAcks = true }) }

// SampleAcks logs the line of one acked message in every n (the first, the
// n+1-th, ...); n <= 1 logs them all. Lines for other outcomes are never
// sampled. Ack lines are at debug level, so a logger above debug writes
// none whatever the sampling.
func SampleAcks(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			n = 1
		}
		c.ackEvery = uint64(n)
	})
}

// logAck reports whether this ack line is to be written, counting it.
func (c *config) logAck() bool {
	if c.noAcks {
		return false
	}
	if c.ackEvery <= 1 {
		return true
	}
	return (c.acks.Add(1)-1)%c.ackEvery == 0
}
