// Package tracing traces warren messages with OpenTelemetry, following the
// messaging semantic conventions for RabbitMQ at semconv v1.43.0 (the
// version otel-go v1.47 ships): Middleware starts a CONSUMER span per
// message, parented by the W3C trace context its publisher put in the AMQP
// headers (or linked to it, WithLinks), and InjectPublisher starts a
// PRODUCER span per publish and writes its context into the headers.
// Wrapping the transport's publisher with InjectPublisher on one side and
// mounting Middleware on the other makes one trace cross services.
//
// Span names are "{operation} {destination}": "process Order.*" (the
// route pattern, messaging.destination.template), "publish events" (the
// exchange; "amq.default" for the default exchange), and with
// WithSettleSpans "ack Order.*", "retry Order.*" ... for the settlement.
// The attributes, with their requirement level in the conventions:
//
//	messaging.system                            required      "rabbitmq"
//	messaging.operation.name                    required      "process", "publish", or the settlement
//	messaging.operation.type                    cond. req.    "process", "send", "settle"
//	messaging.destination.name                  cond. req.    "{exchange}:{routing key}" (producer),
//	                                                          "{exchange}:{routing key}:{queue}" (consumer)
//	messaging.rabbitmq.destination.routing_key  cond. req.    when not empty
//	messaging.rabbitmq.message.delivery_tag     cond. req.    when available: the broker's tag (consumer)
//	error.type                                  cond. req.    on failure: the dead-letter reason, "requeue",
//	                                                          the error's Go type, or "_OTHER"
//	server.address, server.port                 cond. req.    with WithServerURL or WithServer
//	messaging.destination.template              cond. req.    the route pattern (consumer)
//	messaging.destination.subscription.name     cond. req.    the queue (consumer)
//	messaging.message.id                        recommended   when set
//	messaging.message.conversation_id           recommended   the correlation id, when set
//	messaging.client.id                         recommended   with WithClientID
//	messaging.message.body.size                 opt-in        with WithBodySize
//	warren.route, warren.attempt, warren.outcome, warren.reason   warren's own
//
// messaging.rabbitmq.message.delivery_tag is warren.Message.DeliveryTag,
// set on the process span when the message came from a broker (it is 0 in
// warrentest unless the test sets it). Error text in span
// statuses and exception events goes through warren's redaction rule: URL
// passwords and password=/token=/secret=... pairs are hidden. The tracer's
// instrumentation scope is ScopeName at Version.
//
// Both use the global TracerProvider and TextMapPropagator (otel.Get...)
// unless WithTracerProvider and WithPropagator give others. The global
// propagator propagates nothing until set: call
// otel.SetTextMapPropagator(propagation.TraceContext{}) (or a composite
// with baggage) at start-up, or pass WithPropagator.
package tracing

import (
	"net"
	"net/url"
	"runtime/debug"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of warren's tracer.
const ScopeName = "github.com/warren-mq/warren/middleware/tracing"

// Option configures Middleware and InjectPublisher.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tp       trace.TracerProvider
	prop     propagation.TextMapPropagator
	tracer   trace.Tracer
	server   []attribute.KeyValue // server.address, server.port
	clientID string
	bodySize bool
	settle   bool
	links    bool
}

func newConfig(opts []Option) *config {
	c := &config{tp: otel.GetTracerProvider(), prop: otel.GetTextMapPropagator()}
	for _, o := range opts {
		o.apply(c)
	}
	c.tracer = c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL),
		trace.WithInstrumentationVersion(Version()))
	return c
}

// WithTracerProvider makes spans with tp instead of the global provider.
// A nil tp is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	})
}

// WithPropagator reads and writes trace context in AMQP headers with p
// instead of the global propagator. A nil p is ignored.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.prop = p
		}
	})
}

// Version is the version of warren's module in the running binary (the
// instrumentation scope's version), or "devel" when it is built from a
// checkout of warren itself.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
		if m.Path == "github.com/warren-mq/warren" && m.Version != "" && m.Version != "(devel)" {
			return m.Version
		}
	}
	return "devel"
}

// WithServerURL sets server.address and server.port on every span from
// the broker's AMQP URL (its credentials are never read): the port is the
// URL's, or 5672 for amqp and 5671 for amqps. A URL that does not parse is
// ignored.
func WithServerURL(amqpURL string) Option {
	return optionFunc(func(c *config) {
		u, err := url.Parse(amqpURL)
		if err != nil || u.Hostname() == "" {
			return
		}
		port := 5672
		if u.Scheme == "amqps" {
			port = 5671
		}
		if p, err := strconv.Atoi(u.Port()); err == nil {
			port = p
		}
		c.server = []attribute.KeyValue{semconv.ServerAddress(u.Hostname()), semconv.ServerPort(port)}
	})
}

// WithServer sets server.address and server.port from host:port.
func WithServer(hostport string) Option {
	return optionFunc(func(c *config) {
		host, port, err := net.SplitHostPort(hostport)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil {
			return
		}
		c.server = []attribute.KeyValue{semconv.ServerAddress(host), semconv.ServerPort(n)}
	})
}

// WithClientID sets messaging.client.id on every span: use the
// connection name given to the transport (rabbitmq.WithConnectionName).
func WithClientID(id string) Option { return optionFunc(func(c *config) { c.clientID = id }) }

// WithBodySize adds messaging.message.body.size, which the conventions
// make opt-in.
func WithBodySize() Option { return optionFunc(func(c *config) { c.bodySize = true }) }

// WithSettleSpans makes Middleware end each message with a CLIENT span,
// operation type "settle", named after the settlement the handler asked
// for ("ack", "retry", "requeue", "dead-letter", "drop"), a child of the
// process span. It records what the handler asked for, as the transport
// settles after the middleware returns.
func WithSettleSpans() Option { return optionFunc(func(c *config) { c.settle = true }) }

// WithLinks makes Middleware start each process span as the root of a new
// trace linked to the publisher's span, instead of its child: for
// services that want one trace per consumption.
func WithLinks() Option { return optionFunc(func(c *config) { c.links = true }) }
