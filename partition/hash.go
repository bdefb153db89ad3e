package partition

import (
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Hash says what the hash exchange hashes to pick a partition. The zero
// value hashes the routing key.
type Hash struct {
	Header   string // hash-header: the value of this header
	Property string // hash-property: this message property
}

// RoutingKey hashes the routing key (the default).
func RoutingKey() Hash { return Hash{} }

// HashHeader hashes the value of header name; the publisher sets it,
// usually from the message with a Key. A message without the header goes
// to one partition only (the plugin hashes the missing value as empty).
func HashHeader(name string) Hash { return Hash{Header: name} }

// HashProperty hashes a message property: "message_id", "correlation_id"
// or "timestamp" (the plugin's names).
func HashProperty(name string) Hash { return Hash{Property: name} }

// DefaultKeyHeader is the header a Key writes unless told another.
const DefaultKeyHeader = "x-warren-partition-key"

func (h Hash) validate() error {
	if h.Header != "" && h.Property != "" {
		return fmt.Errorf("warren/partition: hash either a header or a property, not both")
	}
	switch h.Property {
	case "", "message_id", "correlation_id", "timestamp":
		return nil
	}
	return fmt.Errorf("warren/partition: property %q cannot be hashed (message_id, correlation_id or timestamp)", h.Property)
}

func (h Hash) exchangeArgs() amqp.Table {
	switch {
	case h.Header != "":
		return amqp.Table{"hash-header": h.Header}
	case h.Property != "":
		return amqp.Table{"hash-property": h.Property}
	}
	return nil
}

// String names the hash input: "routing key", "header x-..." or
// "property message_id".
func (h Hash) String() string {
	switch {
	case h.Header != "":
		return "header " + h.Header
	case h.Property != "":
		return "property " + h.Property
	}
	return "routing key"
}
