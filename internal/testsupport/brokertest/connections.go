package brokertest

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

var pidPattern = regexp.MustCompile(`<[^>]+>\s*$`)

// CloseNamedConnections closes, from the broker side, every connection
// whose client-provided name (connection_name) starts with prefix, and
// returns how many it closed. Unlike close_all_connections it leaves every
// other client of the broker alone.
func CloseNamedConnections(prefix, reason string) (int, error) {
	out, err := exec.Command("rabbitmqctl", "-q", "list_connections", "client_properties", "pid").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("rabbitmqctl list_connections: %v: %s", err, out)
	}
	n := 0
	for _, pid := range ConnectionPids(string(out), prefix) {
		if out, err := exec.Command("rabbitmqctl", "-q", "close_connection", pid, reason).CombinedOutput(); err != nil {
			return n, fmt.Errorf("rabbitmqctl close_connection %s: %v: %s", pid, err, out)
		}
		n++
	}
	return n, nil
}

// ConnectionPids returns the pids of the connections whose client-provided
// name starts with prefix, from the output of
// `rabbitmqctl -q list_connections client_properties pid`.
func ConnectionPids(listing, prefix string) []string {
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

// CloseConnections is CloseNamedConnections for tests: it fails t if
// rabbitmqctl does.
func CloseConnections(t testing.TB, prefix, reason string) int {
	t.Helper()
	n, err := CloseNamedConnections(prefix, reason)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
