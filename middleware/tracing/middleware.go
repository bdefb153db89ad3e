package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
)

// Middleware starts a CONSUMER span per message, named "process
// <exchange>", parented by the trace context extracted from the message's
// headers (a new trace when there is none, or when it is garbage: a bad
// header never fails a message):
//
//	otel.SetTextMapPropagator(propagation.TraceContext{})
//	r.Use(tracing.Middleware())
//
// The span carries messaging.system=rabbitmq, messaging.operation.name and
// .type "process", messaging.destination.name (the exchange),
// messaging.destination.subscription.name (the queue),
// messaging.rabbitmq.destination.routing_key, messaging.message.id,
// messaging.message.conversation_id (the correlation id), the body size,
// and warren.route, warren.attempt and warren.outcome. A handler error that
// is a failure (retry, requeue, dead-letter) is recorded, with error.type,
// and sets the span's status to Error; ack and drop leave it unset.
//
// The handler's context carries the span, and its Publisher is wrapped as
// by InjectPublisher, so replies and everything the handler publishes join
// the trace. Mount Recover inside Middleware so a panic is recorded.
func Middleware(opts ...Option) warren.Middleware {
	c := newConfig(opts)
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
			ctx = c.prop.Extract(ctx, HeaderCarrier(msg.Headers))
			attrs := make([]attribute.KeyValue, 0, 12)
			attrs = append(attrs, semconv.MessagingOperationName("process"), semconv.MessagingOperationTypeProcess,
				AttrRoute.String(msg.Route), AttrAttempt.Int(msg.Attempt))
			if msg.Queue != "" {
				attrs = append(attrs, semconv.MessagingDestinationSubscriptionName(msg.Queue))
			}
			attrs = messageAttrs(attrs, msg.Exchange, msg.RoutingKey, msg.MessageID, msg.CorrelationID, len(msg.Body))
			ctx, span := c.tracer.Start(ctx, spanName("process", msg.Exchange),
				trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
			defer span.End()
			if pub := warren.PublisherFromContext(ctx); pub != nil {
				ctx = warren.ContextWithPublisher(ctx, &injectingPublisher{next: pub, c: c})
			}
			err := next.ServeMessage(ctx, msg)
			if span.IsRecording() {
				endWith(span, err)
			}
			return err
		})
	}
}
