package main

import (
	"time"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// closeConnections closes, from the broker side, the connections whose
// name starts with prefix, and returns how many it closed and when it
// started closing the first. It leaves every other client of the broker
// alone (no close_all_connections: the broker is shared).
func closeConnections(prefix, reason string) (int, time.Time, error) {
	first := time.Now()
	n, err := brokertest.CloseNamedConnections(prefix, reason)
	return n, first, err
}
