package bench

import (
	"fmt"
	"testing"

	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/bench/benchkit"
)

// BenchmarkDefaults redoes the measurements behind warren's consumer
// defaults (docs/ARCHITECTURE.md, Defaults): the worker count with a
// handler sleeping 1 ms and with a no-op one, the prefetch with a no-op
// handler, the ack batch (a quarter, half, and all of the prefetch) at the
// default prefetch, and the window of 64 workers sleeping 1 ms: prefetch
// 128 (lib=warren) against the default for 64 workers
// (lib=warren-window, DefaultPrefetchPerWorker per worker), with the no-op
// rate beside them. One queue of persistent 256-byte messages; b.N is the
// number of messages:
//
//	go test -run '^$' -bench Defaults -benchtime 20000x -count 3 ./bench/
func BenchmarkDefaults(b *testing.B) {
	b.Run("set=workers", func(b *testing.B) {
		var scenarios []benchkit.ConsumeScenario
		for _, h := range []benchkit.Work{benchkit.Sleep1, benchkit.Noop} {
			for _, w := range []int{4, 8, 16, 32, 64} {
				s := benchkit.Base
				s.Handler, s.Workers = h, w
				scenarios = append(scenarios, s)
			}
		}
		benchkit.RunConsume(b, scenarios, warrenConsumer)
	})
	b.Run("set=prefetch", func(b *testing.B) {
		var scenarios []benchkit.ConsumeScenario
		for _, p := range []int{1, 16, 128, 512} {
			s := benchkit.Base
			s.Prefetch, s.Workers = p, rabbitmq.DefaultWorkers
			scenarios = append(scenarios, s)
		}
		benchkit.RunConsume(b, scenarios, warrenConsumer)
	})
	b.Run("set=ackbatch", func(b *testing.B) {
		s := benchkit.Base
		s.Workers = rabbitmq.DefaultWorkers
		var libs []benchkit.Consumer
		for _, n := range []int{s.Prefetch / 4, s.Prefetch / 2, s.Prefetch} {
			libs = append(libs, benchkit.Consumer{
				Lib: fmt.Sprintf("warren-ackbatch%d", n),
				Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
					return prepareWarren(b, run, rabbitmq.WithWorkers(s.Workers), rabbitmq.WithPrefetch(s.Prefetch), rabbitmq.WithAckBatch(n))
				},
			})
		}
		benchkit.RunConsume(b, []benchkit.ConsumeScenario{s}, libs...)
	})
	b.Run("set=window", func(b *testing.B) {
		sleeping := benchkit.Base
		sleeping.Handler, sleeping.Workers = benchkit.Sleep1, 64
		benchkit.RunConsume(b, []benchkit.ConsumeScenario{sleeping}, warrenConsumer, warrenWindowConsumer)
		benchkit.RunConsume(b, []benchkit.ConsumeScenario{benchkit.Base}, warrenConsumer)
	})
}
