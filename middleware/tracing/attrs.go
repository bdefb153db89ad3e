package tracing

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
)

// Attributes warren adds beyond the semantic conventions.
const (
	AttrRoute   = attribute.Key("warren.route")   // the matched route's pattern
	AttrAttempt = attribute.Key("warren.attempt") // warren's delivery attempt, from 1
	AttrOutcome = attribute.Key("warren.outcome") // the settlement the handler asked for
	AttrReason  = attribute.Key("warren.reason")  // the dead-letter reason
)

// spanName follows the conventions: "{operation} {destination}", or the
// operation alone for the default exchange.
func spanName(op, exchange string) string {
	if exchange == "" {
		return op
	}
	return op + " " + exchange
}

// messageAttrs appends the attributes common to consumer and producer spans.
func messageAttrs(dst []attribute.KeyValue, exchange, key, id, corrID string, size int) []attribute.KeyValue {
	dst = append(dst, semconv.MessagingSystemRabbitMQ, semconv.MessagingDestinationName(exchange),
		semconv.MessagingMessageBodySize(size))
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

// endWith records a handler's result on span: its outcome, and for a
// failure (anything but ack and drop) the error, error.type and an error
// status. error.type is the dead-letter reason, "requeue", or the error's
// Go type (semconv.ErrorType) for a retry.
func endWith(span trace.Span, err error) {
	out := warren.OutcomeOf(err)
	span.SetAttributes(AttrOutcome.String(out.Action.String()))
	if out.Action == warren.ActionAck || out.Action == warren.ActionDrop {
		return
	}
	et := semconv.ErrorType(err)
	switch out.Action {
	case warren.ActionDeadLetter:
		et = semconv.ErrorTypeKey.String(out.Reason)
		span.SetAttributes(AttrReason.String(out.Reason))
	case warren.ActionRequeue:
		et = semconv.ErrorTypeKey.String("requeue")
	}
	span.SetAttributes(et)
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}
