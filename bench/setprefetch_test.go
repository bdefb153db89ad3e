package bench

import (
	"testing"

	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/bench/benchkit"
)

// BenchmarkSetPrefetch drains a queue with a consumer whose prefetch was
// lowered by SetPrefetch before it ran (lib=warren-setprefetch: made with
// the default prefetch, then SetPrefetch to the scenario's) beside one
// made with that prefetch (lib=warren). The ack batch must follow the
// prefetch it runs with: a batch left at half the old prefetch is never
// filled by the smaller window, and every ack waits for the delay timer.
//
//	go test -run '^$' -bench SetPrefetch -benchtime 5000x -count 3 ./bench/
func BenchmarkSetPrefetch(b *testing.B) {
	s := benchkit.Base
	s.Prefetch = 16
	benchkit.RunConsume(b, []benchkit.ConsumeScenario{s}, warrenConsumer, warrenSetPrefetchConsumer)
}

// warrenSetPrefetchConsumer is warren with the default prefetch, changed
// to the scenario's by SetPrefetch before Run.
var warrenSetPrefetchConsumer = benchkit.Consumer{
	Lib: "warren-setprefetch",
	Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
		cons := newWarrenConsumers(b, run, nil, nil, rabbitmq.WithWorkers(run.Scenario.Workers))
		for _, c := range cons {
			if err := c.SetPrefetch(run.Scenario.Prefetch); err != nil {
				b.Fatalf("SetPrefetch: %v", err)
			}
		}
		return runWarren(cons)
	},
}
