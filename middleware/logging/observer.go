package logging

import (
	"context"

	"go.uber.org/zap"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/redact"
)

// Observer is a warren.Observer that logs what only the transport knows,
// to zap (NewObserver) or slog (NewSlogObserver):
//
//	obs := logging.NewObserver(logger)
//	// give obs (alone or in a warren.Observers) to the transport
//
// Connection changes: up at info ("connection recovered" after an outage),
// down at warn with the error and the reconnect attempt, closed at info.
// Failed publishes at error. Dead-letters decided by the transport's policy
// (reason "error" once retries are exhausted, "requeue-limit") at error;
// other settlements are the Middleware's line. Retries at debug. Names and
// errors go through warren's redaction rule (URL passwords and
// password=... pairs hidden). Its methods never panic, even on a nil
// *Observer, so it is safe in a warren.Observers fan-out.
type Observer struct{ s sink }

var _ warren.Observer = (*Observer)(nil)

// NewObserver returns an Observer that logs to l; a nil l logs nothing.
func NewObserver(l *zap.Logger) *Observer { return &Observer{s: zapSink{zapOrNop(l)}} }

func (o *Observer) log(lvl level, msg string, fs []field) {
	if o == nil || o.s == nil {
		return
	}
	ctx := context.Background()
	if o.s.enabled(ctx, lvl) {
		o.s.write(ctx, lvl, msg, fs)
	}
}

// ObserveSettle implements warren.Observer.
func (o *Observer) ObserveSettle(e warren.SettleEvent) {
	if e.Action != warren.ActionDeadLetter || (e.Reason != warren.ReasonError && e.Reason != warren.ReasonRequeueLimit) {
		return
	}
	o.log(levelError, "message dead-lettered", withErr([]field{stringField("queue", e.Queue), stringField("route", e.Route),
		stringField("reason", e.Reason), intField("attempt", e.Attempt)}, e.Err))
}

// ObserveRetry implements warren.Observer.
func (o *Observer) ObserveRetry(e warren.RetryEvent) {
	o.log(levelDebug, "message retry", withErr([]field{stringField("queue", e.Queue), stringField("route", e.Route),
		intField("attempt", e.Attempt), durationField("delay", e.Delay), boolField("delayed", e.Delayed)}, e.Err))
}

// ObservePublish implements warren.Observer.
func (o *Observer) ObservePublish(e warren.PublishEvent) {
	if e.Err == nil {
		return
	}
	o.log(levelError, "publish failed", withErr([]field{stringField("exchange", e.Exchange),
		stringField("routing_key", e.RoutingKey), durationField("duration", e.Duration)}, e.Err))
}

// ObserveConnection implements warren.Observer.
func (o *Observer) ObserveConnection(e warren.ConnectionEvent) {
	fs := withErr([]field{stringField("connection", redact.Text(e.Name)), intField("attempt", e.Attempt)}, e.Err)
	switch e.State {
	case warren.ConnUp:
		msg := "connection up"
		if e.Attempt > 0 {
			msg = "connection recovered"
		}
		o.log(levelInfo, msg, fs)
	case warren.ConnClosed:
		o.log(levelInfo, "connection closed", fs)
	default:
		o.log(levelWarn, "connection down", fs)
	}
}
