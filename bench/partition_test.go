package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	rpart "github.com/warren-mq/warren/adapters/rabbitmq/partition"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/partition"
)

// partitionWork is the handler's simulated I/O per message.
const partitionWork = 100 * time.Microsecond

// BenchmarkPartitioned compares ordered consumption of one stream (1,000
// keys, a handler doing partitionWork of I/O) on one queue with 8 OrderBy
// lanes in one instance against 8 partitions, one lane each, over 3
// instances: the same number of lanes, one queue against eight.
// b.N is the number of messages; msg/s is the metric.
func BenchmarkPartitioned(b *testing.B) {
	b.Run("queue-orderby-8-lanes-1-instance", func(b *testing.B) {
		benchOrdered(b, func(ctx context.Context, b *testing.B, handled *atomic.Int64) string {
			spec := rabbitmq.Spec{
				Exchange: warren.Exchange{Name: brokertest.Name(b, "ex"), Kind: warren.KindTopic},
				Queue:    warren.Queue{Name: brokertest.Name(b, "q")},
			}
			brokertest.DeleteQueues(b, spec.Queue.Name, warren.DeadLetterQueue(spec.Queue.Name))
			brokertest.DeleteExchanges(b, spec.Exchange.Name)
			client := benchClient(b, "single")
			c, err := client.NewConsumer(ctx, countingRouter(handled), spec,
				rabbitmq.WithWorkers(8), rabbitmq.WithOrderBy(func(m *warren.Message) string { return m.RoutingKey }))
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = c.Run(ctx) }()
			return spec.Exchange.Name
		})
	})
	b.Run("8-partitions-3-instances", func(b *testing.B) {
		benchOrdered(b, func(ctx context.Context, b *testing.B, handled *atomic.Int64) string {
			layout := partition.Layout{
				Exchange:   warren.Exchange{Name: brokertest.Name(b, "ex"), Kind: warren.KindTopic},
				Queue:      warren.Queue{Name: brokertest.Name(b, "q")},
				Partitions: 8,
			}
			for _, q := range layout.QueueNames() {
				brokertest.DeleteQueues(b, q, warren.DeadLetterQueue(q))
			}
			brokertest.DeleteQueues(b, partition.Roster(layout.Queue.Name))
			brokertest.DeleteExchanges(b, layout.Exchange.Name, partition.HashExchange(layout.Queue.Name))
			var fleet []*rpart.Consumer
			for i := 0; i < 3; i++ {
				c, err := rpart.New(ctx, benchClient(b, fmt.Sprint("inst", i)), countingRouter(handled), layout,
					rpart.Rebalance(200*time.Millisecond))
				if err != nil {
					b.Fatal(err)
				}
				fleet = append(fleet, c)
				go func() { _ = c.Run(ctx) }()
			}
			// Let the rebalancer spread the partitions before the clock runs.
			brokertest.Eventually(b, 20*time.Second, "partitions spread", func() bool {
				for _, c := range fleet {
					if n := c.Held(); n == 0 || n > 3 {
						return false
					}
				}
				return true
			})
			return layout.Exchange.Name
		})
	})
}

func countingRouter(handled *atomic.Int64) *warren.Router {
	r := warren.NewRouter()
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error {
		time.Sleep(partitionWork)
		handled.Add(1)
		return nil
	})
	return r
}

func benchClient(b *testing.B, what string) *rabbitmq.Client {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rabbitmq.Dial(ctx, brokertest.Require(b), rabbitmq.WithName(brokertest.Name(b, what)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// benchOrdered starts consumers with setup, then times publishing b.N
// messages over 1,000 keys and handling them all.
func benchOrdered(b *testing.B, setup func(context.Context, *testing.B, *atomic.Int64) string) {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	var handled atomic.Int64
	exchange := setup(ctx, b, &handled)
	pub := benchClient(b, "pub").Publisher()
	b.ResetTimer()
	start := time.Now()
	var pending []*rabbitmq.Confirmation
	for j := 0; j < b.N; j++ {
		cf, err := pub.PublishDeferred(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: fmt.Sprintf("Order.k%d", j%1000),
			Publishing: amqp.Publishing{Body: []byte("x")}})
		if err != nil {
			b.Fatal(err)
		}
		if pending = append(pending, cf); len(pending) == 500 || j == b.N-1 {
			for _, cf := range pending {
				if err := cf.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
			pending = pending[:0]
		}
	}
	for handled.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
}
