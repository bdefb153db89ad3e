package metrics

import (
	"strconv"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/redact"
)

// ObserveSettle implements warren.Observer: it counts the delivery in
// warren_messages_consumed_total by the settlement performed and, for a
// dead-letter, in warren_dead_lettered_total by reason.
func (m *Metrics) ObserveSettle(e warren.SettleEvent) {
	if m == nil {
		return
	}
	m.consumed.WithLabelValues(e.Queue, routeLabel(e.Route), e.Action.String()).Inc()
	if e.Action == warren.ActionDeadLetter {
		reason := e.Reason
		if reason == "" {
			reason = "unknown"
		}
		m.deadLettered.WithLabelValues(e.Queue, reason).Inc()
	}
}

// ObserveRetry implements warren.Observer: it counts the retry in
// warren_retries_total, delayed "true" for one through a wait queue.
func (m *Metrics) ObserveRetry(e warren.RetryEvent) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(e.Queue, routeLabel(e.Route), strconv.FormatBool(e.Delayed)).Inc()
}

// ObservePublish implements warren.Observer: it counts the publish in
// warren_published_total and times it in warren_publish_duration_seconds,
// with outcome "ok" or "error".
func (m *Metrics) ObservePublish(e warren.PublishEvent) {
	if m == nil {
		return
	}
	exchange, outcome := e.Exchange, "ok"
	if exchange == "" {
		exchange = "(default)"
	}
	if e.Err != nil {
		outcome = "error"
	}
	m.published.WithLabelValues(exchange, outcome).Inc()
	m.publishDuration.WithLabelValues(exchange, outcome).Observe(e.Duration.Seconds())
}

// connSeen is what ObserveConnection remembers of a connection.
type connSeen struct{ wasUp, lost bool }

// ObserveConnection implements warren.Observer: warren_connection_up is 1
// while the connection is up and 0 once it is down or closed;
// warren_reconnects_total counts every ConnUp that follows a ConnDown of a
// connection that was up before (recoveries, not first connections).
func (m *Metrics) ObserveConnection(e warren.ConnectionEvent) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	name := redact.Text(e.Name) // a label leaves the process
	seen := m.conns[name]
	reconnects := m.reconnects.WithLabelValues(name) // present, at 0, from the first event
	switch e.State {
	case warren.ConnUp:
		if seen.wasUp && seen.lost {
			reconnects.Inc()
		}
		seen = connSeen{wasUp: true}
		m.connUp.WithLabelValues(name).Set(1)
	default:
		seen.lost = seen.wasUp
		m.connUp.WithLabelValues(name).Set(0)
	}
	m.conns[name] = seen
}
