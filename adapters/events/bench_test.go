package events

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPublish measures confirmed publishes per second from parallel
// publishers, to a topic with only its stream queue and to one that also
// feeds a group's quorum queue.
func BenchmarkPublish(b *testing.B) {
	for _, groups := range []int{0, 1} {
		for _, publishers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("groups=%d/publishers=%d", groups, publishers), func(b *testing.B) {
				e := newEnv(b)
				var gs []string
				for i := 0; i < groups; i++ {
					gs = append(gs, fmt.Sprint("g", i))
				}
				topic := e.topic("bench", gs...)
				for _, g := range gs {
					ch := e.consume(topic, WithGroup(g))
					go func() {
						for range ch {
						}
					}()
				}
				payload := make([]byte, 256)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for p := 0; p < publishers; p++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for next.Add(1) <= int64(b.N) {
							if err := e.stream.Publish(topic, payload); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
			})
		}
	}
}

// BenchmarkConsume measures events per second delivered to one consumer,
// from a backlog: a stream replay (WithOffset) and a group's queue, in
// automatic and manual ack mode.
func BenchmarkConsume(b *testing.B) {
	for _, mode := range []string{"stream", "group"} {
		for _, manual := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/manual=%v", mode, manual), func(b *testing.B) {
				e := newEnv(b)
				topic := e.topic("bench", "g")
				opts := []ConsumeOption{WithOffset(time.Now().Add(-time.Minute))}
				if mode == "group" {
					opts = []ConsumeOption{WithGroup("g")}
					// declare the group's queue before publishing the backlog
					if err := e.client.Declare(context.Background(), mustConsumer(b, e, topic, "g").topo); err != nil {
						b.Fatal(err)
					}
				}
				if manual {
					opts = append(opts, WithAutoAck(false, time.Minute))
				}
				publishWith(b, e.stream, topic, 0, b.N, 64)
				b.ResetTimer()
				start := time.Now()
				ch := e.consume(topic, opts...)
				for i := 0; i < b.N; i++ {
					ev := <-ch
					if manual {
						if err := ev.Ack(); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
			})
		}
	}
}

// mustConsumer builds (without starting) a consumer of group, for its
// topology.
func mustConsumer(b *testing.B, e *env, topic, group string) *consumer {
	c, err := e.stream.newConsumer(topic, ConsumeOptions{Group: group, Context: context.Background()})
	if err != nil {
		b.Fatal(err)
	}
	c.cancel()
	return c
}
