// Package brokertest connects integration tests to the real RabbitMQ.
//
// Tests reach the broker at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/).
// They skip only under -short; otherwise a missing broker fails the test
// with a message that says how to start one.
package brokertest

import (
	"crypto/rand"
	"encoding/hex"
	"github.com/warren-mq/warren/internal/redact"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DefaultURL is the broker tests use when AMQP_URL is not set.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// URL returns the broker URL for tests.
func URL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Require skips t under -short and otherwise returns the broker URL.
func Require(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs RabbitMQ (run without -short)")
	}
	return URL()
}

// Dial connects to the broker and closes the connection when t ends.
func Dial(t testing.TB) *amqp.Connection {
	t.Helper()
	url := Require(t)
	conn, err := amqp.DialConfig(url, amqp.Config{
		Properties: amqp.Table{"connection_name": "warren-test " + t.Name()},
		Heartbeat:  10 * time.Second,
	})
	if err != nil {
		t.Fatalf("cannot reach RabbitMQ at %s: %v\nstart one with `make broker` "+
			"(or `rabbitmq-server -detached`), or set AMQP_URL", Redact(url), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Channel opens a channel on a fresh connection, closed when t ends.
func Channel(t testing.TB) *amqp.Channel {
	t.Helper()
	ch, err := Dial(t).Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	return ch
}

// Name returns a unique name for a queue or exchange of this test, so
// tests never share broker state.
func Name(t testing.TB, what string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	return "warren-test." + n + "." + what + "." + hex.EncodeToString(b[:])
}

// DeleteQueues deletes queues when t ends, over a connection of its own.
func DeleteQueues(t testing.TB, names ...string) {
	t.Helper()
	url := URL()
	t.Cleanup(func() {
		conn, err := amqp.Dial(url)
		if err != nil {
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			return
		}
		for _, n := range names {
			_, _ = ch.QueueDelete(n, false, false, false)
		}
	})
}

// DeleteExchanges deletes exchanges when t ends.
func DeleteExchanges(t testing.TB, names ...string) {
	t.Helper()
	url := URL()
	t.Cleanup(func() {
		conn, err := amqp.Dial(url)
		if err != nil {
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			return
		}
		for _, n := range names {
			_ = ch.ExchangeDelete(n, false, false)
		}
	})
}

// Rabbitmqctl runs rabbitmqctl with args and fails t if it fails.
func Rabbitmqctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Redact hides the password in an AMQP URL (the library's one rule,
// internal/redact).
func Redact(url string) string { return redact.Text(url) }
