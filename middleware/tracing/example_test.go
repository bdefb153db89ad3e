package tracing_test

import (
	"context"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/warrentest"
)

func ExampleMiddleware() {
	// Usually otel.SetTracerProvider and otel.SetTextMapPropagator at
	// start-up, and no options.
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	opts := []tracing.Option{tracing.WithTracerProvider(tp), tracing.WithPropagator(propagation.TraceContext{})}

	r := warren.NewRouter()
	r.Use(tracing.Middleware(opts...), middleware.Recover)
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { return nil })

	msg := warrentest.NewMessage("Order.Created", nil, warrentest.WithExchange("events"),
		warrentest.WithHeader("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
	warrentest.Serve(r, msg)

	s := exp.GetSpans()[0]
	fmt.Println(s.Name, s.SpanKind, s.SpanContext.TraceID(), s.Parent.SpanID())
	// Output: process Order.* consumer 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331
}

func ExampleInjectPublisher() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	rec := warrentest.NewRecorder() // the transport's publisher, in a service
	pub := tracing.InjectPublisher(rec, tracing.WithTracerProvider(tp), tracing.WithPropagator(propagation.TraceContext{}))

	ctx, span := tp.Tracer("checkout").Start(context.Background(), "checkout")
	_ = pub.Publish(ctx, &warren.Publishing{Exchange: "events", RoutingKey: "Order.Created"})
	span.End()

	producer := exp.GetSpans()[0]
	sent := rec.Published()[0].Headers["traceparent"].(string)
	fmt.Println(producer.Name, producer.SpanKind)
	fmt.Println(sent == fmt.Sprintf("00-%s-%s-01", span.SpanContext().TraceID(), producer.SpanContext.SpanID()))
	// Output:
	// publish events producer
	// true
}

func ExampleHeaderCarrier() {
	headers := amqp.Table{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "retries": int32(2)}
	ctx := propagation.TraceContext{}.Extract(context.Background(), tracing.HeaderCarrier(headers))
	fmt.Println(tracing.HeaderCarrier(headers).Get("retries") == "", ctx != context.Background())
	// Output: true true
}
