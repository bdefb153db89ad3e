package benchkit

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// ConsumeScenario is one way of draining pre-filled queues.
type ConsumeScenario struct {
	Queues   int  // queues drained at once, one consumer (channel) each
	Prefetch int  // basic.qos prefetch count of each consumer
	Size     int  // message body size in bytes
	Handler  Work // what the handler does with each message
	Workers  int  // handlers running at once, per consumer
}

// Name is the scenario's part of a benchmark name; every consume benchmark
// has the same keys in the same order, so tables line up.
func (s ConsumeScenario) Name() string {
	return fmt.Sprintf("queues=%d/prefetch=%d/size=%d/handler=%s/workers=%d",
		s.Queues, s.Prefetch, s.Size, s.Handler.Name, s.Workers)
}

// ConsumeRun is one timed drain: the queues, already filled with N messages
// in all, and the handler body every library calls once per message.
type ConsumeRun struct {
	Scenario ConsumeScenario
	URL      string   // the broker
	Queues   []string // the filled queues, Scenario.Queues of them
	N        int      // messages in all the queues together

	work    Work
	handled atomic.Int64
	badSize atomic.Int64
	done    chan struct{}
}

func newConsumeRun(s ConsumeScenario, url string, queues []string, n int) *ConsumeRun {
	r := &ConsumeRun{Scenario: s, URL: url, Queues: queues, N: n, work: s.Handler, done: make(chan struct{})}
	r.work.prepare()
	if n == 0 {
		close(r.done)
	}
	return r
}

// Handle is the handler's body: it does the scenario's work and counts the
// message. Every library calls it exactly once per message it hands to its
// handler, from the handler, and settles the message after it returns.
func (r *ConsumeRun) Handle(body []byte) {
	r.work.Do(body)
	if len(body) != r.Scenario.Size {
		r.badSize.Add(1)
	}
	if r.handled.Add(1) == int64(r.N) {
		close(r.done)
	}
}

// Handled returns how many messages Handle has seen.
func (r *ConsumeRun) Handled() int { return int(r.handled.Load()) }

// Done is closed when Handle has seen N messages.
func (r *ConsumeRun) Done() <-chan struct{} { return r.done }

// ConsumeFunc consumes run's queues once the timer runs: it starts consuming
// when called, calls run.Handle for every message and settles it (ack, or
// auto-ack), and when ctx is cancelled it stops, closes every channel it
// opened (so whatever it did not ack goes back to the queue, where the
// harness counts it as a failure) and returns only when every goroutine it
// or its library started for this run has ended.
type ConsumeFunc func(ctx context.Context) error

// Consumer is a library (or a mode of one) under benchmark.
type Consumer struct {
	// Lib is the benchmark name's lib= value: raw-ack, warren, watermill, ...
	Lib string
	// Supports reports whether the library runs scenario s; nil means all.
	Supports func(s ConsumeScenario) bool
	// Prepare runs before the timer: dial, open channels, build routers,
	// but do not consume yet. It returns the function that is timed, and
	// registers with b.Cleanup whatever must be released afterwards.
	Prepare func(b *testing.B, run *ConsumeRun) ConsumeFunc
}

// RunConsume runs every scenario on every library that supports it, as
// sub-benchmarks named
// lib=<Lib>/<scenario>. Libraries take turns scenario by scenario, so the
// numbers that are compared are measured close in time.
func RunConsume(b *testing.B, scenarios []ConsumeScenario, libs ...Consumer) {
	ran := false
	for _, s := range scenarios {
		for _, lib := range libs {
			if lib.Supports != nil && !lib.Supports(s) {
				continue
			}
			ran = true
			b.Run("lib="+lib.Lib+"/"+s.Name(), func(b *testing.B) { BenchConsume(b, s, lib) })
		}
	}
	if !ran {
		b.Skip("benchkit: no library runs these scenarios")
	}
}
