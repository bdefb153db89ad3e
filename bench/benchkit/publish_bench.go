package benchkit

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// BenchPublish is one publish benchmark: outside the timer it declares a
// fresh queue and lets lib prepare; it times s.Goroutines goroutines
// publishing b.N messages in all (shares differ by at most one) until every
// one is confirmed, and reports msg/s; then it checks that the queue holds
// exactly b.N messages.
func BenchPublish(b *testing.B, s PublishScenario, lib Publisher) {
	b.ReportAllocs()
	admin := Dial(b, "admin")
	queue := Queues(b, admin, 1)[0]
	run := &PublishRun{Scenario: s, URL: URL(), Key: queue, Queue: queue, Body: Body(s.Size), N: b.N}
	publish := lib.Prepare(b, run)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	shares := Share(b.N, s.Goroutines)
	errs := make([]error, s.Goroutines)
	var wg sync.WaitGroup
	runtime.GC()
	b.ResetTimer()
	stopProfile := startProfile(b)
	stopCallgrind := startCallgrind(b)
	start, cpuStart := time.Now(), processCPU()
	for g, count := range shares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[g] = publish(ctx, g, count)
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpuStart
	stopCallgrind()
	stopProfile()
	b.StopTimer()

	for g, err := range errs {
		if err != nil {
			b.Fatalf("benchkit: %s goroutine %d: %v", lib.Lib, g, err)
		}
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/msg")
	if got, _ := Depth(b, admin, []string{queue}); got != b.N {
		b.Errorf("benchkit: %s: queue holds %d messages after %d confirmed publishes", lib.Lib, got, b.N)
	}
}
