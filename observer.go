package warren

import "time"

// Observer receives what the transport and the retry machinery do, for
// metrics and logs. Implementations must be safe for concurrent use and
// fast: they run on the consume and publish paths.
type Observer interface {
	// ObserveSettle is called once per delivery, after it was settled.
	ObserveSettle(SettleEvent)
	// ObserveRetry is called for every retry: in place (Delayed false) or
	// through a wait queue (Delayed true).
	ObserveRetry(RetryEvent)
	// ObservePublish is called for every publish once it was confirmed or
	// failed.
	ObservePublish(PublishEvent)
	// ObserveConnection is called when a connection changes state.
	ObserveConnection(ConnectionEvent)
}

// SettleEvent describes how one delivery was settled.
type SettleEvent struct {
	Queue string
	Route string // the pattern of the route that matched; "" when none did
	// Action is the settlement performed, after retry policy and limits
	// were applied: a retry with no attempts left appears as
	// ActionDeadLetter with reason "error".
	Action   Action
	Reason   string // for ActionDeadLetter
	Attempt  int
	Duration time.Duration // handler time, from dispatch to return
	Err      error
}

// RetryEvent describes one retry of a failed message.
type RetryEvent struct {
	Queue   string
	Route   string // the pattern of the route that matched
	Attempt int    // the attempt that failed
	Delay   time.Duration
	Delayed bool // through a wait queue rather than in place
	Err     error
}

// PublishEvent describes one confirmed or failed publish.
type PublishEvent struct {
	Exchange   string
	RoutingKey string
	Duration   time.Duration
	Err        error
}

// ConnState is the state of a transport connection.
type ConnState uint8

const (
	// ConnDown means the connection is lost and recovery is under way.
	ConnDown ConnState = iota
	// ConnUp means the connection is open (first time or recovered).
	ConnUp
	// ConnClosed means the connection was closed for good.
	ConnClosed
)

// String returns "down", "up" or "closed".
func (s ConnState) String() string {
	switch s {
	case ConnUp:
		return "up"
	case ConnClosed:
		return "closed"
	default:
		return "down"
	}
}

// ConnectionEvent describes a connection's change of state.
type ConnectionEvent struct {
	Name string // the connection's name, e.g. "orders-service.consume"
	// Endpoint is the address (host:port) of the node: the one connected
	// to (ConnUp), lost or failed to dial (ConnDown), last on (ConnClosed).
	Endpoint string
	State    ConnState
	// Attempt counts the dials of this outage: on ConnDown the attempt that
	// failed (0 for the loss itself), on ConnUp the dials the recovery took
	// (0 for the first connection, so Attempt > 0 means "recovered").
	Attempt int
	Err     error // why it went down, or why a reconnect attempt failed
}

// Observers fans events out to several observers.
type Observers []Observer

// ObserveSettle implements Observer.
func (os Observers) ObserveSettle(e SettleEvent) {
	for _, o := range os {
		o.ObserveSettle(e)
	}
}

// ObserveRetry implements Observer.
func (os Observers) ObserveRetry(e RetryEvent) {
	for _, o := range os {
		o.ObserveRetry(e)
	}
}

// ObservePublish implements Observer.
func (os Observers) ObservePublish(e PublishEvent) {
	for _, o := range os {
		o.ObservePublish(e)
	}
}

// ObserveConnection implements Observer.
func (os Observers) ObserveConnection(e ConnectionEvent) {
	for _, o := range os {
		o.ObserveConnection(e)
	}
}

// NopObserver ignores every event.
type NopObserver struct{}

// ObserveSettle implements Observer.
func (NopObserver) ObserveSettle(SettleEvent) {}

// ObserveRetry implements Observer.
func (NopObserver) ObserveRetry(RetryEvent) {}

// ObservePublish implements Observer.
func (NopObserver) ObservePublish(PublishEvent) {}

// ObserveConnection implements Observer.
func (NopObserver) ObserveConnection(ConnectionEvent) {}
