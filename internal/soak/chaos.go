package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

var pidPattern = regexp.MustCompile(`<[^>]+>\s*$`)

// connectionPids returns the pids of the broker's connections whose
// client-provided name starts with prefix, from the output of
// `rabbitmqctl -q list_connections client_properties pid`.
func connectionPids(listing, prefix string) []string {
	var pids []string
	for _, line := range strings.Split(listing, "\n") {
		if !strings.Contains(line, `{"connection_name","`+prefix) {
			continue
		}
		if pid := strings.TrimSpace(pidPattern.FindString(line)); pid != "" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// closeConnections closes, from the broker side, the connections whose
// name starts with prefix, and returns how many it closed and when it
// started closing the first. It leaves every other client of the broker
// alone (no close_all_connections: the broker is shared).
func closeConnections(prefix, reason string) (int, time.Time, error) {
	out, err := exec.Command("rabbitmqctl", "-q", "list_connections", "client_properties", "pid").CombinedOutput()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("rabbitmqctl list_connections: %v: %s", err, out)
	}
	n, first := 0, time.Now()
	for _, pid := range connectionPids(string(out), prefix) {
		if out, err := exec.Command("rabbitmqctl", "-q", "close_connection", pid, reason).CombinedOutput(); err != nil {
			return n, first, fmt.Errorf("rabbitmqctl close_connection %s: %v: %s", pid, err, out)
		}
		n++
	}
	return n, first, nil
}
