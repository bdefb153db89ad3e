package tracing

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/redact"
	"github.com/warren-mq/warren/middleware/internal/msgconv"
)

// Attributes warren adds beyond the semantic conventions.
const (
	AttrRoute   = attribute.Key("warren.route")   // the matched route's pattern
	AttrAttempt = attribute.Key("warren.attempt") // warren's delivery attempt, from 1
	AttrOutcome = attribute.Key("warren.outcome") // the settlement the handler asked for
	AttrReason  = attribute.Key("warren.reason")  // the dead-letter reason
)

// defaultExchange is the destination name of the default exchange.
const defaultExchange = msgconv.DefaultExchange

// destination returns messaging.destination.name (msgconv.Destination).
func destination(exchange, key, queue string) string {
	return msgconv.Destination(exchange, key, queue)
}

// spanName is "{operation} {destination}": the template (the route
// pattern) when there is one, as it has low cardinality, else the
// exchange.
func spanName(op, template, exchange string) string {
	if template != "" {
		return op + " " + template
	}
	if exchange == "" {
		exchange = defaultExchange
	}
	return op + " " + exchange
}

// messageAttrs appends the attributes common to consumer and producer spans.
func (c *config) messageAttrs(dst []attribute.KeyValue, dest, key, id, corrID string, size int) []attribute.KeyValue {
	dst = append(dst, semconv.MessagingSystemRabbitMQ, semconv.MessagingDestinationName(dest))
	dst = append(dst, c.server...)
	if c.clientID != "" {
		dst = append(dst, semconv.MessagingClientID(c.clientID))
	}
	if c.bodySize {
		dst = append(dst, semconv.MessagingMessageBodySize(size))
	}
	if key != "" {
		dst = append(dst, semconv.MessagingRabbitMQDestinationRoutingKey(key))
	}
	if id != "" {
		dst = append(dst, semconv.MessagingMessageID(id))
	}
	if corrID != "" {
		dst = append(dst, semconv.MessagingMessageConversationID(corrID))
	}
	return dst
}

// errorType is error.type for err (msgconv.ErrorType).
func errorType(err error) attribute.KeyValue {
	return semconv.ErrorTypeKey.String(msgconv.ErrorType(err))
}

// recordError records err on span, its text redacted.
func recordError(span trace.Span, err error) {
	text := redact.Text(err.Error())
	span.AddEvent("exception", trace.WithAttributes(semconv.ExceptionType(fmt.Sprintf("%T", err)), semconv.ExceptionMessage(text)))
	span.SetStatus(codes.Error, text)
}

// endWith records a handler's result on span: its outcome, and for a
// failure (anything but ack and drop) the error, error.type and an error
// status. error.type is the dead-letter reason, "requeue", or errorType
// for a retry.
func endWith(span trace.Span, err error) {
	out := warren.OutcomeOf(err)
	span.SetAttributes(AttrOutcome.String(out.Action.String()))
	if out.Action == warren.ActionAck || out.Action == warren.ActionDrop {
		return
	}
	et := errorType(err)
	switch out.Action {
	case warren.ActionDeadLetter:
		et = semconv.ErrorTypeKey.String(out.Reason)
		span.SetAttributes(AttrReason.String(out.Reason))
	case warren.ActionRequeue:
		et = semconv.ErrorTypeKey.String("requeue")
	}
	span.SetAttributes(et)
	recordError(span, err)
}
