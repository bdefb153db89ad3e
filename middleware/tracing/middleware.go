package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
)

// Middleware starts a CONSUMER span per message, named "process
// <route pattern>", parented by the trace context extracted from the message's
// headers (a new trace when there is none, or when it is garbage: a bad
// header never fails a message):
//
//	otel.SetTextMapPropagator(propagation.TraceContext{})
//	r.Use(tracing.Middleware())
//
// The span carries the attributes the package doc lists, and warren.route,
// warren.attempt and warren.outcome. A handler error that
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
			pctx := c.prop.Extract(ctx, HeaderCarrier(msg.Headers))
			attrs := make([]attribute.KeyValue, 0, 16)
			attrs = append(attrs, semconv.MessagingOperationName("process"), semconv.MessagingOperationTypeProcess,
				AttrRoute.String(msg.Route), AttrAttempt.Int(msg.Attempt))
			if msg.Route != "" {
				attrs = append(attrs, semconv.MessagingDestinationTemplate(msg.Route))
			}
			if msg.Queue != "" {
				attrs = append(attrs, semconv.MessagingDestinationSubscriptionName(msg.Queue))
			}
			if msg.DeliveryTag != 0 {
				attrs = append(attrs, semconv.MessagingRabbitMQMessageDeliveryTag(int(msg.DeliveryTag)))
			}
			attrs = c.messageAttrs(attrs, destination(msg.Exchange, msg.RoutingKey, msg.Queue), msg.RoutingKey, msg.MessageID, msg.CorrelationID, len(msg.Body))
			startOpts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...)}
			if c.links {
				if sc := trace.SpanContextFromContext(pctx); sc.IsValid() {
					startOpts = append(startOpts, trace.WithLinks(trace.Link{SpanContext: sc}))
				}
				startOpts = append(startOpts, trace.WithNewRoot())
			} else {
				ctx = pctx
			}
			ctx, span := c.tracer.Start(ctx, spanName("process", msg.Route, msg.Exchange), startOpts...)
			defer span.End()
			if pub := warren.PublisherFromContext(ctx); pub != nil {
				ctx = warren.ContextWithPublisher(ctx, &injectingPublisher{next: pub, c: c})
			}
			err := next.ServeMessage(ctx, msg)
			if span.IsRecording() {
				endWith(span, err)
				if c.settle {
					c.settleSpan(ctx, msg, err)
				}
			}
			return err
		})
	}
}

// settleSpan records the settlement the handler asked for as a CLIENT span
// of operation type "settle", a child of the process span.
func (c *config) settleSpan(ctx context.Context, msg *warren.Message, err error) {
	op := warren.OutcomeOf(err).Action.String()
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs, semconv.MessagingOperationName(op), semconv.MessagingOperationTypeSettle)
	if msg.Route != "" {
		attrs = append(attrs, semconv.MessagingDestinationTemplate(msg.Route))
	}
	if msg.Queue != "" {
		attrs = append(attrs, semconv.MessagingDestinationSubscriptionName(msg.Queue))
	}
	attrs = c.messageAttrs(attrs, destination(msg.Exchange, msg.RoutingKey, msg.Queue), msg.RoutingKey, msg.MessageID, msg.CorrelationID, len(msg.Body))
	_, span := c.tracer.Start(ctx, spanName(op, msg.Route, msg.Exchange),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	span.End()
}
