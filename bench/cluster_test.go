package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/bench/benchkit"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// The cluster benchmarks (issue 13): consuming and publishing a quorum
// queue on the three-node cluster, raw amqp091-go and warren side by side
// in one run, and classic against quorum on the cluster's node and on the
// single default broker. Names read
// Benchmark<Cluster...>/broker=<cluster|single>/queue=<classic|quorum>/lib=<raw|warren>.
// The scenario is the base one of the sweep: one queue, 256-byte
// persistent messages; consuming with prefetch 128 and one worker,
// publishing from 8 goroutines on one channel with pipelined confirms.
// `make bench-cluster` runs them (bench/README.md, "On the cluster").

// clusterBroker is one broker the cluster benchmarks run on.
type clusterBroker struct {
	name string
	url  string
}

// clusterBrokers are the cluster's first node (WARREN_CLUSTER_URL,
// default amqp://guest:guest@127.0.0.1:5681/: quorum queues declared
// through it are led by it and replicated to the other two) and the
// single default broker (AMQP_URL).
func clusterBrokers() []clusterBroker {
	url := os.Getenv("WARREN_CLUSTER_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5681/"
	}
	return []clusterBroker{{"cluster", url}, {"single", benchkit.URL()}}
}

var clusterQueueTypes = []warren.QueueType{warren.Classic, warren.Quorum}

const (
	clusterPrefetch   = 128
	clusterGoroutines = 8
	clusterSize       = 256
)

// clusterDial dials url for tb, closed when it ends; it fails tb with a
// message saying how to start the cluster when nothing answers.
func clusterDial(tb testing.TB, url, what string) *amqp.Connection {
	tb.Helper()
	if testing.Short() {
		tb.Skip("benchmark against RabbitMQ (run without -short)")
	}
	conn, err := amqp.DialConfig(url, amqp.Config{
		Properties: amqp.Table{"connection_name": "warren-bench " + tb.Name() + " " + what},
	})
	if err != nil {
		tb.Fatalf("cannot reach %s: %v\nstart the cluster with `make cluster`, the single broker with `make broker`", brokertest.Redact(url), err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

// clusterQueue declares a fresh durable queue of type typ through conn
// and deletes it when tb ends.
func clusterQueue(tb testing.TB, conn *amqp.Connection, url string, typ warren.QueueType) string {
	tb.Helper()
	name := benchkit.QueueName(tb, "q")
	tb.Cleanup(func() {
		if c, err := amqp.Dial(url); err == nil {
			if ch, err := c.Channel(); err == nil {
				_, _ = ch.QueueDelete(name, false, false, false)
			}
			_ = c.Close()
		}
	})
	ch := benchkit.Channel(tb, conn)
	defer ch.Close()
	if _, err := ch.QueueDeclare(name, true, false, false, false, amqp.Table{"x-queue-type": string(typ)}); err != nil {
		tb.Fatalf("declare %s queue: %v", typ, err)
	}
	return name
}

// BenchmarkClusterConsume drains a queue holding b.N persistent messages.
func BenchmarkClusterConsume(b *testing.B) {
	for _, br := range clusterBrokers() {
		for _, typ := range clusterQueueTypes {
			for _, lib := range []string{"raw-ack", "warren"} {
				b.Run(fmt.Sprintf("broker=%s/queue=%s/lib=%s", br.name, typ, lib), func(b *testing.B) {
					benchClusterConsume(b, br.url, typ, lib)
				})
			}
		}
	}
}

func benchClusterConsume(b *testing.B, url string, typ warren.QueueType, lib string) {
	admin := clusterDial(b, url, "admin")
	queue := clusterQueue(b, admin, url, typ)
	benchkit.Fill(b, admin, []string{queue}, b.N, clusterSize)
	var handled atomic.Int64
	done := make(chan struct{})
	handle := func() {
		if handled.Add(1) == int64(b.N) {
			close(done)
		}
	}
	var consume func(ctx context.Context) error
	switch lib {
	case "raw-ack":
		ch := benchkit.Channel(b, clusterDial(b, url, lib))
		if err := ch.Qos(clusterPrefetch, 0, false); err != nil {
			b.Fatal(err)
		}
		consume = func(ctx context.Context) error {
			ds, err := ch.ConsumeWithContext(ctx, queue, "", false, false, false, false, nil)
			if err != nil {
				return err
			}
			for d := range ds {
				handle()
				if err := d.Ack(false); err != nil {
					return err
				}
			}
			return nil
		}
	case "warren":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName("warren-bench.cluster-consume"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = client.Close() })
		r := warren.NewRouter()
		r.HandleFunc("#", func(context.Context, *warren.Message) error { handle(); return nil })
		cons, err := client.NewConsumer(ctx, r, rabbitmq.Spec{Queue: warren.Queue{Name: queue, Durable: true, Type: typ}},
			rabbitmq.WithSkipDeclare(), rabbitmq.WithPrefetch(clusterPrefetch), rabbitmq.WithWorkers(1))
		if err != nil {
			b.Fatal(err)
		}
		consume = cons.Run
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { errc <- consume(ctx) }()
	select {
	case <-done:
	case err := <-errc:
		b.Fatalf("%s stopped after %d of %d: %v", lib, handled.Load(), b.N, err)
	case <-time.After(5 * time.Minute):
		b.Fatalf("%s: %d of %d in 5 minutes", lib, handled.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if lib == "raw-ack" {
		// Cancelling the context cancels the subscription: the loop ends.
		<-errc
	} else if err := <-errc; err != nil {
		b.Errorf("warren Run: %v", err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	if left, _ := benchkit.Depth(b, admin, []string{queue}); left != 0 {
		b.Errorf("%s left %d messages in the queue", lib, left)
	}
}

// BenchmarkClusterPublish publishes b.N persistent messages with confirms
// to a fresh queue.
func BenchmarkClusterPublish(b *testing.B) {
	for _, br := range clusterBrokers() {
		for _, typ := range clusterQueueTypes {
			for _, lib := range []string{"raw", "warren"} {
				b.Run(fmt.Sprintf("broker=%s/queue=%s/lib=%s", br.name, typ, lib), func(b *testing.B) {
					benchClusterPublish(b, br.url, typ, lib)
				})
			}
		}
	}
}

func benchClusterPublish(b *testing.B, url string, typ warren.QueueType, lib string) {
	admin := clusterDial(b, url, "admin")
	queue := clusterQueue(b, admin, url, typ)
	body := benchkit.Body(clusterSize)
	window := benchkit.DefaultWindow / clusterGoroutines
	var publish func(ctx context.Context, count int) error
	switch lib {
	case "raw":
		ch := benchkit.Channel(b, clusterDial(b, url, lib))
		if err := ch.Confirm(false); err != nil {
			b.Fatal(err)
		}
		publish = func(ctx context.Context, count int) error {
			w := benchkit.NewWindow(window)
			for range count {
				if err := w.Publish(ctx, ch, "", queue, benchkit.Publishing(body)); err != nil {
					return err
				}
			}
			return w.Wait(ctx)
		}
	case "warren":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName("warren-bench.cluster-publish"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = client.Close() })
		pub := client.Publisher()
		publish = func(ctx context.Context, count int) error {
			pending := make([]*rabbitmq.Confirmation, 0, window)
			for range count {
				if len(pending) == window {
					if err := pending[0].Wait(ctx); err != nil {
						return err
					}
					pending = pending[1:]
				}
				conf, err := pub.PublishDeferred(ctx, &warren.Publishing{RoutingKey: queue, Publishing: benchkit.Publishing(body)})
				if err != nil {
					return err
				}
				pending = append(pending, conf)
			}
			for _, c := range pending {
				if err := c.Wait(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	shares := benchkit.Share(b.N, clusterGoroutines)
	errs := make([]error, clusterGoroutines)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range clusterGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[g] = publish(ctx, shares[g])
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatalf("%s: %v", lib, err)
		}
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	if got, _ := benchkit.Depth(b, admin, []string{queue}); got != b.N {
		b.Errorf("%s: the queue holds %d messages, want %d", lib, got, b.N)
	}
}
