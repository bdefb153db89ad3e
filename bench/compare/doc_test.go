// Package compare runs warren's end-to-end benchmark scenarios on other Go
// RabbitMQ libraries: watermill-amqp (with watermill's Router) and
// wagslane/go-rabbitmq. It is a module of its own, so their dependencies
// never enter warren's go.mod; the scenarios, names and harness come from
// warren's bench/benchkit through a replace directive. See ../README.md.
package compare
