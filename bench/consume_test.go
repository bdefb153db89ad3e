package bench

import (
	"testing"

	"github.com/warren-mq/warren/bench/benchkit"
)

// consumers are the libraries the consume sweep measures. Add warren's here.
var consumers = []benchkit.Consumer{
	rawConsumer(rawAck),
	rawConsumer(rawMultiAck),
	rawConsumer(rawAutoAck),
}

// targetConsumers are the libraries measured on issue 3's consume target:
// warren against raw per-message ack, raw acking multiple (the cheapest
// loop that still acks every message) and raw auto-ack. Add warren's here.
var targetConsumers = []benchkit.Consumer{
	rawConsumer(rawAck),
	rawConsumer(rawMultiAck),
	rawConsumer(rawAutoAck),
}

// BenchmarkConsume drains pre-filled queues of persistent messages; b.N is
// the number of messages (make bench: benchkit.SweepMessages).
func BenchmarkConsume(b *testing.B) {
	benchkit.RunConsume(b, benchkit.ConsumeScenarios, consumers...)
}

// BenchmarkTargetConsume is the consume target of issue 3, run by make
// bench with benchkit.TargetMessages messages.
func BenchmarkTargetConsume(b *testing.B) {
	benchkit.RunConsume(b, benchkit.TargetConsumeScenarios, targetConsumers...)
}
