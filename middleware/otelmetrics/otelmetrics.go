// Package otelmetrics records warren's metrics through the OpenTelemetry
// metrics API, with the names, units and attributes of the messaging
// semantic conventions at semconv v1.43.0 (the version otel-go v1.47
// ships):
//
//	messaging.process.duration           histogram  s          Middleware: handler time per message
//	messaging.client.consumed.messages   counter    {message}  ObserveSettle: one per delivery
//	messaging.client.sent.messages       counter    {message}  ObservePublish: one per publish
//	messaging.client.operation.duration  histogram  s          ObservePublish: publish until confirmed
//
// Every point carries messaging.system "rabbitmq" and
// messaging.operation.name ("process" for consumption, "publish" for
// publishes), and messaging.destination.name by the RabbitMQ rules:
// "{exchange}:{routing key}:{queue}" for consumers, "{exchange}:{routing
// key}" for producers, "amq.default" for the default exchange (consumed
// messages have none: warren.SettleEvent does not carry the exchange and
// routing key). Consumer points add messaging.destination.template (the
// route pattern) and messaging.destination.subscription.name (the queue);
// messaging.client.operation.duration adds messaging.operation.type "send".
// error.type is set on failure only: for a handler, the dead-letter reason,
// "requeue", or the error's Go type ("_OTHER" for anonymous errors); for a
// publish, the error's Go type.
//
// The routing key is part of the destination name, as the conventions ask:
// a service publishing with a high-cardinality routing key (an id in it)
// produces as many series. Settlement has no duration of its own in
// warren's events, so no operation.duration is recorded for it.
//
// A Metrics is a warren.Observer. Use it alone or next to the Prometheus
// metrics of middleware/metrics, fanning events out with warren.Observers.
// It uses the global MeterProvider (otel.GetMeterProvider) unless
// WithMeterProvider gives another.
package otelmetrics

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/messagingconv"

	"github.com/warren-mq/warren"
)

// ScopeName is the instrumentation scope of warren's meter.
const ScopeName = "github.com/warren-mq/warren/middleware/otelmetrics"

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct{ mp metric.MeterProvider }

// WithMeterProvider makes New use mp instead of the global MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// Metrics holds warren's OpenTelemetry instruments. It is safe for
// concurrent use.
type Metrics struct {
	process  messagingconv.ProcessDuration
	consumed messagingconv.ClientConsumedMessages
	sent     messagingconv.ClientSentMessages
	opDur    messagingconv.ClientOperationDuration
}

var _ warren.Observer = (*Metrics)(nil)

// New creates the instruments on a meter of the MeterProvider.
func New(opts ...Option) (*Metrics, error) {
	c := config{}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	meter := c.mp.Meter(ScopeName)
	m := &Metrics{}
	var err error
	if m.process, err = messagingconv.NewProcessDuration(meter); err != nil {
		return nil, wrap(err)
	}
	if m.consumed, err = messagingconv.NewClientConsumedMessages(meter); err != nil {
		return nil, wrap(err)
	}
	if m.sent, err = messagingconv.NewClientSentMessages(meter); err != nil {
		return nil, wrap(err)
	}
	if m.opDur, err = messagingconv.NewClientOperationDuration(meter); err != nil {
		return nil, wrap(err)
	}
	return m, nil
}

func wrap(err error) error { return &initError{err} }

type initError struct{ err error }

func (e *initError) Error() string { return "warren/otelmetrics: " + e.err.Error() }
func (e *initError) Unwrap() error { return e.err }
