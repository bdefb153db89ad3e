// Package msgconv holds the OpenTelemetry messaging-convention rules that
// warren's tracing and OTel metrics share: the RabbitMQ destination name
// and error.type.
package msgconv

import (
	"errors"
	"fmt"

	"github.com/warren-mq/warren"
)

// DefaultExchange is the destination name of the default exchange.
const DefaultExchange = "amq.default"

// Destination returns messaging.destination.name: "{exchange}:{routing
// key}", and ":{queue}" after it on consumers; "amq.default" stands for the
// default exchange, and an empty routing key or queue is left out.
func Destination(exchange, key, queue string) string {
	if exchange == "" {
		exchange = DefaultExchange
	}
	d := exchange
	if key != "" {
		d += ":" + key
	}
	if queue != "" {
		d += ":" + queue
	}
	return d
}

// ErrorType is error.type for err: the Go type of the first error in its
// chain that has a type of its own, or "_OTHER" when the chain holds only
// the standard library's anonymous types (errors.New, fmt.Errorf,
// errors.Join), whose names say nothing.
func ErrorType(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch t := fmt.Sprintf("%T", e); t {
		case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		default:
			return t
		}
	}
	return "_OTHER"
}

// HandlerErrorType is error.type for a handler's result: "" when it
// succeeded (ack or drop), else the dead-letter reason, "requeue", or
// ErrorType for a retry.
func HandlerErrorType(err error) string {
	out := warren.OutcomeOf(err)
	switch out.Action {
	case warren.ActionAck, warren.ActionDrop:
		return ""
	case warren.ActionDeadLetter:
		return out.Reason
	case warren.ActionRequeue:
		return "requeue"
	}
	return ErrorType(err)
}
