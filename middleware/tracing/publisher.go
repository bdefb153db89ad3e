package tracing

import (
	"context"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
)

// InjectPublisher wraps p so that every publish starts a PRODUCER span,
// "publish <exchange>", as a child of the span in the publish's context
// (a new trace when there is none), and writes that span's context into the
// message's headers with the propagator:
//
//	pub = tracing.InjectPublisher(pub)
//	err := pub.Publish(ctx, &warren.Publishing{Exchange: "events", RoutingKey: "Order.Created"})
//
// The span carries the attributes the package doc lists; a failed publish is recorded on it. The
// caller's Publishing and its Headers table are never modified: p receives
// a copy with a new table holding the caller's headers and the trace
// context (which replaces any trace context already there).
//
// With no span in the context, the span continues the trace in the
// message's own headers, so the copies the transport republishes (delayed
// retries, dead letters) stay in their message's trace. Stacked injecting
// publishers make one span, not one each.
func InjectPublisher(p warren.Publisher, opts ...Option) warren.Publisher {
	return &injectingPublisher{next: p, c: newConfig(opts)}
}

type injectingPublisher struct {
	next warren.Publisher
	c    *config
}

// injectedKey marks a context whose publish is already inside a PRODUCER
// span: an injecting publisher further down passes it straight through, so
// a message gets one producer span however the publishers are stacked
// (the middleware's and the client's WithPublishMiddleware).
type injectedKey struct{}

func (p *injectingPublisher) Publish(ctx context.Context, pub *warren.Publishing) error {
	if ctx.Value(injectedKey{}) != nil {
		return p.next.Publish(ctx, pub)
	}
	if !trace.SpanContextFromContext(ctx).IsValid() {
		// No span in the context (a retry or dead-letter copy the
		// transport republishes after the handler returned): continue the
		// trace the message already carries rather than start a new one.
		ctx = p.c.prop.Extract(ctx, HeaderCarrier(pub.Headers))
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, semconv.MessagingOperationName("publish"), semconv.MessagingOperationTypeSend)
	attrs = p.c.messageAttrs(attrs, destination(pub.Exchange, pub.RoutingKey, ""), pub.RoutingKey, pub.MessageId, pub.CorrelationId, len(pub.Body))
	ctx, span := p.c.tracer.Start(ctx, spanName("publish", "", pub.Exchange),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	defer span.End()

	c := *pub
	c.Headers = make(amqp.Table, len(pub.Headers)+2)
	for k, v := range pub.Headers {
		c.Headers[k] = v
	}
	p.c.prop.Inject(ctx, HeaderCarrier(c.Headers))
	err := p.next.Publish(context.WithValue(ctx, injectedKey{}, true), &c)
	if err != nil {
		span.SetAttributes(errorType(err))
		recordError(span, err)
	}
	return err
}
