// Package integration holds the tests that run warren's middleware
// (logging, metrics, tracing) over the real RabbitMQ transport: a trace
// that crosses the broker, the metrics registry scraped after mixed runs
// (one across a broker-side connection close), and the logging observer
// across lost connections. It has no code of its own; the middleware
// packages never import the transport, so these tests live here.
//
// The tests need RabbitMQ at AMQP_URL (default
// amqp://guest:guest@127.0.0.1:5672/) and rabbitmqctl on the PATH; they
// skip under -short. Each uses its own uniquely named exchange and queues,
// deleted afterwards, and closes only its own client's connections.
package integration
