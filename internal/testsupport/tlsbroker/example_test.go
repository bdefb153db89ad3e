package tlsbroker_test

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/testsupport/tlsbroker"
)

// ExampleStart shows a test that dials the TLS listener with the CA it
// trusts and with a wrong one. (Compiled, not run: it needs a test's t.)
func ExampleStart() {
	testTLS := func(t *testing.T) {
		b := tlsbroker.Start(t) // stopped and deleted when t ends

		conn, err := amqp.DialTLS(b.URL(), b.ClientTLS())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()

		if _, err := amqp.DialTLS(b.URL(), b.WrongCATLS()); err == nil {
			t.Fatal("a wrong CA was accepted")
		}
	}
	_ = testTLS
}
