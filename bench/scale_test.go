package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/bench/benchkit"
)

// scaleConsumers are the numbers of consumers (one queue each) on one
// client that BenchmarkScale runs.
var scaleConsumers = []int{1, 10, 100, 1000}

// BenchmarkScale runs 1, 10, 100 and 1,000 consumers, one queue each, on one
// client with warren's defaults (32 workers, prefetch 128), and reports what
// grows with the number of consumers: the time to start them all (from the
// first NewConsumer until every one is consuming), goroutines and heap per
// idle consumer (the client's own connections not counted), msg/s from the
// first NewConsumer until b.N messages spread over the queues are handled,
// and the time to shut them all down. b.N is the number of messages:
//
//	go test -run '^$' -bench Scale -benchtime 20000x ./bench/
func BenchmarkScale(b *testing.B) {
	for _, n := range scaleConsumers {
		b.Run(fmt.Sprintf("lib=warren/consumers=%d", n), func(b *testing.B) { benchScale(b, n) })
	}
}

func benchScale(b *testing.B, consumers int) {
	conn := benchkit.Dial(b, "scale-setup")
	queues := benchkit.Queues(b, conn, consumers)
	benchkit.Fill(b, conn, queues, b.N, 256)

	var handled atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	r := warren.NewRouter()
	r.HandleFunc("#", func(context.Context, *warren.Message) error {
		if handled.Add(1) == int64(b.N) {
			once.Do(func() { close(done) })
		}
		return nil
	})

	client := dialWarren(b, "scale")
	baseGoroutines, baseHeap := runtime.NumGoroutine(), heapInUse() // the client's own not counted
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	b.StopTimer()

	start := time.Now()
	cons := make([]*rabbitmq.Consumer, consumers)
	for i, q := range queues {
		c, err := client.NewConsumer(ctx, r, rabbitmq.Spec{Queue: warren.Queue{Name: q, Durable: true}}, rabbitmq.WithSkipDeclare())
		if err != nil {
			b.Fatal(err)
		}
		cons[i] = c
	}
	var wg sync.WaitGroup
	errs := make([]error, consumers)
	for i, c := range cons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Run(ctx)
		}()
	}
	b.StartTimer() // the drain starts as soon as the first consumer does
	for _, c := range cons {
		for {
			if st, err := c.State(); err != nil {
				b.Fatal(err)
			} else if st == rabbitmq.ConsumerConsuming {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	started := time.Since(start)
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d messages handled after 5 minutes", handled.Load(), b.N)
	}
	b.StopTimer()
	drained := time.Since(start)

	idleGoroutines, idleHeap := runtime.NumGoroutine(), heapInUse()
	stopAt := time.Now()
	cancel()
	wg.Wait()
	for _, err := range errs {
		if err != nil && err != context.Canceled {
			b.Fatal(err)
		}
	}
	stopped := time.Since(stopAt)

	b.ReportMetric(float64(b.N)/drained.Seconds(), "msg/s")
	b.ReportMetric(started.Seconds()*1e3, "start-ms")
	b.ReportMetric(stopped.Seconds()*1e3, "stop-ms")
	b.ReportMetric(float64(idleGoroutines-baseGoroutines)/float64(consumers), "goroutines/consumer")
	b.ReportMetric(float64(int64(idleHeap)-int64(baseHeap))/float64(consumers)/1024, "heap-KiB/consumer")
}

// heapInUse is the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
