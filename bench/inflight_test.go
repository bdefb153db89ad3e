package bench

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/bench/benchkit"
)

// BenchmarkInFlight is what a message costs while its handler runs: one
// consumer with prefetch and workers both N holds N persistent 256-byte
// messages in handlers that wait, and the benchmark reports the heap and
// the goroutine stacks in use then, less what the same consumer uses
// running and idle, per message. It includes the amqp091-go delivery (its
// body and headers), warren's pooled Message, the ack tracker's entry and
// a worker's stack deepened by the handler. b.N is ignored beyond running
// once per -count; run it as
//
//	go test -run '^$' -bench InFlight -benchtime 1x ./bench/
func BenchmarkInFlight(b *testing.B) {
	for _, n := range []int{256, 1024} {
		b.Run(fmt.Sprintf("lib=warren/inflight=%d", n), func(b *testing.B) {
			for range b.N {
				benchInFlight(b, n)
			}
		})
	}
}

func benchInFlight(b *testing.B, n int) {
	conn := benchkit.Dial(b, "inflight-setup")
	queues := benchkit.Queues(b, conn, 1)

	var held atomic.Int64
	release := make(chan struct{})
	r := warren.NewRouter()
	r.HandleFunc("#", func(context.Context, *warren.Message) error {
		held.Add(1)
		<-release
		return nil
	})
	client := dialWarren(b, "inflight")
	c, err := client.NewConsumer(context.Background(), r, rabbitmq.Spec{Queue: warren.Queue{Name: queues[0], Durable: true}},
		rabbitmq.WithSkipDeclare(), rabbitmq.WithPrefetch(n), rabbitmq.WithWorkers(n))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := c.Run(ctx); err != nil && err != context.Canceled {
			b.Error(err)
		}
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()
	for st, _ := c.State(); st != rabbitmq.ConsumerConsuming; st, _ = c.State() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	idleHeap, idleStack := memInUse()

	body := benchkit.Body(256)
	for i := range n {
		if err := client.Publisher().Publish(ctx, &warren.Publishing{RoutingKey: queues[0],
			Publishing: amqp.Publishing{Body: body, MessageId: strconv.Itoa(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for held.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages in handlers after a minute", held.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	busyHeap, busyStack := memInUse()
	close(release)

	b.ReportMetric(float64(int64(busyHeap)-int64(idleHeap))/float64(n), "heap-B/msg")
	b.ReportMetric(float64(int64(busyStack)-int64(idleStack))/float64(n), "stack-B/msg")
}

// memInUse is the heap and the goroutine stacks in use after a collection.
func memInUse() (heap, stack uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse
}
