package otelmetrics

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/messagingconv"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/internal/msgconv"
)

var system = messagingconv.SystemRabbitMQ

// consumerAttrs are the attributes of a consumed message's points.
func consumerAttrs(exchange, key, queue, route, errType string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, semconv.MessagingDestinationName(msgconv.Destination(exchange, key, queue)))
	if route != "" {
		attrs = append(attrs, semconv.MessagingDestinationTemplate(route))
	}
	if queue != "" {
		attrs = append(attrs, semconv.MessagingDestinationSubscriptionName(queue))
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	return attrs
}

// Middleware records each message's handler time in
// messaging.process.duration. Mount it on the root router so that NotFound
// is measured too (without a destination template). A panic passing
// through is recorded with error.type "panic" before it goes on.
func (m *Metrics) Middleware() warren.Middleware {
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) (err error) {
			start := time.Now()
			panicked := true
			defer func() {
				et := msgconv.HandlerErrorType(err)
				if panicked {
					et = "panic"
				}
				m.process.Record(ctx, time.Since(start).Seconds(), "process", system,
					consumerAttrs(msg.Exchange, msg.RoutingKey, msg.Queue, msg.Route, et)...)
			}()
			err = next.ServeMessage(ctx, msg)
			panicked = false
			return err
		})
	}
}

// ObserveSettle implements warren.Observer: it counts the delivery in
// messaging.client.consumed.messages. The delivery reached the application,
// so error.type is not set whatever the handler returned: the handler's
// failures are on messaging.process.duration. warren.SettleEvent names the
// queue and route but not the exchange and routing key, so these points
// carry messaging.destination.subscription.name and
// messaging.destination.template, and no messaging.destination.name.
func (m *Metrics) ObserveSettle(e warren.SettleEvent) {
	attrs := make([]attribute.KeyValue, 0, 2)
	if e.Route != "" {
		attrs = append(attrs, semconv.MessagingDestinationTemplate(e.Route))
	}
	if e.Queue != "" {
		attrs = append(attrs, semconv.MessagingDestinationSubscriptionName(e.Queue))
	}
	m.consumed.Add(context.Background(), 1, "process", system, attrs...)
}

// ObserveRetry implements warren.Observer; retries have no instrument in
// the conventions (the Prometheus metrics count them).
func (m *Metrics) ObserveRetry(warren.RetryEvent) {}

// ObservePublish implements warren.Observer: it counts the publish in
// messaging.client.sent.messages and records its duration in
// messaging.client.operation.duration, with error.type when it failed.
func (m *Metrics) ObservePublish(e warren.PublishEvent) {
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, semconv.MessagingDestinationName(msgconv.Destination(e.Exchange, e.RoutingKey, "")))
	if e.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(msgconv.ErrorType(e.Err)))
	}
	ctx := context.Background()
	m.sent.Add(ctx, 1, "publish", system, attrs...)
	m.opDur.Record(ctx, e.Duration.Seconds(), "publish", system, append(attrs, semconv.MessagingOperationTypeSend)...)
}

// ObserveConnection implements warren.Observer; connection states have no
// instrument in the conventions (the Prometheus metrics have them).
func (m *Metrics) ObserveConnection(warren.ConnectionEvent) {}
