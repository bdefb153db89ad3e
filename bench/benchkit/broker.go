package benchkit

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// URL returns the broker the benchmarks use: AMQP_URL, or the local default.
func URL() string { return brokertest.URL() }

// Require skips tb under -short and otherwise returns the broker URL after
// checking that the broker answers, failing with a message that says how to
// start one if it does not.
func Require(tb testing.TB) string {
	tb.Helper()
	Dial(tb, "probe").Close()
	return URL()
}

// Dial opens a connection named after tb and what, closed when tb ends. It
// skips under -short and fails tb clearly when the broker is unreachable.
func Dial(tb testing.TB, what string) *amqp.Connection {
	tb.Helper()
	url := brokertest.Require(tb)
	conn, err := amqp.DialConfig(url, amqp.Config{
		Properties: amqp.Table{"connection_name": "warren-bench " + tb.Name() + " " + what},
		Heartbeat:  10 * time.Second,
	})
	if err != nil {
		tb.Fatalf("benchkit: cannot reach RabbitMQ at %s: %v\nstart one with `make broker` "+
			"(or `rabbitmq-server -detached`), or set AMQP_URL", brokertest.Redact(url), err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Channel opens a channel on conn, failing tb if it cannot.
func Channel(tb testing.TB, conn *amqp.Connection) *amqp.Channel {
	tb.Helper()
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatalf("benchkit: open channel: %v", err)
	}
	return ch
}

// BrokerVersion returns the version the broker announced on conn.
func BrokerVersion(conn *amqp.Connection) string {
	product, _ := conn.Properties["product"].(string)
	version, _ := conn.Properties["version"].(string)
	if product == "" {
		product = "RabbitMQ"
	}
	return product + " " + version
}
