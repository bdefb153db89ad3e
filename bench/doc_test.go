// Package bench holds warren's end-to-end benchmarks against a real
// RabbitMQ: raw amqp091-go baselines and warren, run through the harness in
// bench/benchkit so their names and numbers line up with the alternative
// libraries in bench/compare. See README.md.
package bench
