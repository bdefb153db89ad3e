package rabbitmq

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// BenchmarkRequestReply measures round trips (request, TypedReply handler,
// reply) from 16 goroutines sharing one Requester, against the real broker;
// the service runs on a client of its own with 16 workers.
func BenchmarkRequestReply(b *testing.B) {
	url := brokertest.Require(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	service := brokertest.Name(b, "svc")
	q := warren.RequestQueue(service)
	brokertest.DeleteQueues(b, q, warren.DeadLetterQueue(q))
	brokertest.DeleteExchanges(b, warren.RequestExchange(service))

	server, err := Dial(ctx, url, WithName(brokertest.Name(b, "server")))
	if err != nil {
		b.Fatal(err)
	}
	defer server.Close()
	cons, err := server.NewConsumer(context.Background(), pricing(), Requests(service), WithWorkers(16))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cons.Run(context.Background()) }()
	defer func() {
		_ = cons.Shutdown(context.Background())
		<-done
	}()

	caller, err := Dial(ctx, url, WithName(brokertest.Name(b, "caller")))
	if err != nil {
		b.Fatal(err)
	}
	defer caller.Close()
	req := caller.NewRequester()
	defer req.Close()
	if _, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{SKU: "warm-up"}); err != nil {
		b.Fatal(err)
	}

	var failed atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((16 + procs - 1) / procs) // RunParallel starts parallelism x GOMAXPROCS goroutines
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{N: 1, SKU: "bench"}); err != nil {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
}
