package otelmetrics_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/otelmetrics"
	"github.com/warren-mq/warren/warrentest"
)

// Example wires the OTel metrics: the middleware on the router, and the
// Metrics as the transport's observer (next to the Prometheus metrics with
// warren.Observers{promMetrics, otelMetrics}, or alone). Without
// WithMeterProvider the global MeterProvider is used.
func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()

	m, err := otelmetrics.New(otelmetrics.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	r := warren.NewRouter()
	r.Use(m.Middleware())
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { return nil })
	// In a service, give it to the transport: rabbitmq.WithObserver(m).
	var observer warren.Observer = m

	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil, warrentest.WithQueue("shipping")))
	observer.ObserveSettle(warren.SettleEvent{Queue: "shipping", Route: "Order.*", Action: warren.ActionAck})

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, metric := range rm.ScopeMetrics[0].Metrics {
		fmt.Println(metric.Name, metric.Unit)
	}
	// Unordered output:
	// messaging.process.duration s
	// messaging.client.consumed.messages {message}
}
