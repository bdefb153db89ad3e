package logging

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/redact"
)

// Observer is a warren.Observer that logs what only the transport knows:
//
//	obs := logging.NewObserver(logger)
//	// give obs (alone or in a warren.Observers) to the transport
//
// Connection changes: up at info ("connection recovered" after an outage),
// down at warn with the error and the reconnect attempt, closed at info.
// Failed publishes at error. Dead-letters decided by the transport's policy
// (reason "error" once retries are exhausted, "requeue-limit") at error;
// other settlements are the Middleware's line. Retries at debug. Names and
// errors go through warren's redaction rule (URL passwords and password=... pairs hidden). Its methods never panic, even on a nil
// *Observer, so it is safe in a warren.Observers fan-out.
type Observer struct{ l *zap.Logger }

var _ warren.Observer = (*Observer)(nil)

// NewObserver returns an Observer that logs to l; a nil l logs nothing.
func NewObserver(l *zap.Logger) *Observer {
	if l == nil {
		l = nop
	}
	return &Observer{l: l}
}

func (o *Observer) logger() *zap.Logger {
	if o == nil || o.l == nil {
		return nop
	}
	return o.l
}

// ObserveSettle implements warren.Observer.
func (o *Observer) ObserveSettle(e warren.SettleEvent) {
	if e.Action != warren.ActionDeadLetter || (e.Reason != warren.ReasonError && e.Reason != warren.ReasonRequeueLimit) {
		return
	}
	o.logger().Error("message dead-lettered", zap.String("queue", e.Queue), zap.String("route", e.Route),
		zap.String("reason", e.Reason), zap.Int("attempt", e.Attempt), errField(e.Err))
}

// ObserveRetry implements warren.Observer.
func (o *Observer) ObserveRetry(e warren.RetryEvent) {
	o.logger().Debug("message retry", zap.String("queue", e.Queue), zap.String("route", e.Route),
		zap.Int("attempt", e.Attempt), zap.Duration("delay", e.Delay), zap.Bool("delayed", e.Delayed), errField(e.Err))
}

// ObservePublish implements warren.Observer.
func (o *Observer) ObservePublish(e warren.PublishEvent) {
	if e.Err == nil {
		return
	}
	o.logger().Error("publish failed", zap.String("exchange", e.Exchange), zap.String("routing_key", e.RoutingKey),
		zap.Duration("duration", e.Duration), errField(e.Err))
}

// ObserveConnection implements warren.Observer.
func (o *Observer) ObserveConnection(e warren.ConnectionEvent) {
	fs := []zap.Field{zap.String("connection", redact.Text(e.Name)), zap.Int("attempt", e.Attempt), errField(e.Err)}
	switch e.State {
	case warren.ConnUp:
		msg := "connection up"
		if e.Attempt > 0 {
			msg = "connection recovered"
		}
		o.logger().Info(msg, fs...)
	case warren.ConnClosed:
		o.logger().Info("connection closed", fs...)
	default:
		o.logger().Warn("connection down", fs...)
	}
}

// errField logs err's text, redacted; nothing when err is nil.
func errField(err error) zap.Field {
	if err == nil {
		return zap.Skip()
	}
	return zap.String("error", errText(err))
}

// errText is err's text with URLs redacted. An Error method that panics (a
// nil pointer in an error interface) does not take the caller down.
func errText(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("<%T: Error panicked>", err)
		}
	}()
	return redact.Text(err.Error())
}
