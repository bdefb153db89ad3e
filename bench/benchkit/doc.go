// Package benchkit is the harness behind warren's end-to-end benchmarks: it
// declares uniquely named queues, fills them fast with persistent messages
// over pipelined publisher confirms, times a library draining them, checks
// that everything was settled, and reports msg/s.
//
// It is shared by the benchmarks in bench/ (raw amqp091-go and warren) and
// by the separate bench/compare module (watermill-amqp, go-rabbitmq), so
// every library runs the very same scenarios under the same names:
//
//	BenchmarkConsume/lib=raw-ack/queues=1/prefetch=128/size=256/handler=noop/workers=1
//	BenchmarkPublish/lib=raw/goroutines=8/channels=1/size=256
//
// There are two sets: the sweep (BenchmarkConsume, BenchmarkPublish: every
// scenario on every library, SweepMessages each in make bench) and the
// targets of issue 3 (BenchmarkTargetConsume, BenchmarkTargetPublish:
// warren against raw amqp091-go, TargetMessages each).
//
// A library plugs in as a Consumer (or a Publisher): a name and a Prepare
// function that sets up outside the timer and returns the function that is
// timed. See bench/README.md for how to run the benchmarks and read them.
package benchkit
