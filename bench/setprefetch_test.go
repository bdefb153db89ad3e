package bench

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/warren-mq/warren"
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
		client := dialWarren(b, "warren-setprefetch")
		r := warren.NewRouter()
		r.HandleFunc("#", func(_ context.Context, m *warren.Message) error {
			run.Handle(m.Body)
			return nil
		})
		var cons []*rabbitmq.Consumer
		for _, q := range run.Queues {
			c, err := client.NewConsumer(context.Background(), r, rabbitmq.Spec{Queue: warren.Queue{Name: q, Durable: true}},
				rabbitmq.WithSkipDeclare(), rabbitmq.WithWorkers(run.Scenario.Workers))
			if err != nil {
				b.Fatalf("warren consumer: %v", err)
			}
			if err := c.SetPrefetch(run.Scenario.Prefetch); err != nil {
				b.Fatalf("SetPrefetch: %v", err)
			}
			cons = append(cons, c)
		}
		return func(ctx context.Context) error {
			var wg sync.WaitGroup
			errs := make([]error, len(cons))
			for i, c := range cons {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = c.Run(ctx)
				}()
			}
			wg.Wait()
			return errors.Join(errs...)
		}
	},
}
