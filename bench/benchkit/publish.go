package benchkit

import (
	"context"
	"fmt"
	"testing"
)

// PublishScenario is one way of publishing with confirms.
type PublishScenario struct {
	Goroutines int // goroutines publishing at once
	Channels   int // AMQP channels (or the library's publishers) they share
	Size       int // message body size in bytes
}

// Name is the scenario's part of a benchmark name.
func (s PublishScenario) Name() string {
	return fmt.Sprintf("goroutines=%d/channels=%d/size=%d", s.Goroutines, s.Channels, s.Size)
}

// PublishRun is one timed publish of N messages to a fresh queue.
type PublishRun struct {
	Scenario PublishScenario
	URL      string // the broker
	Exchange string // where to publish: the default exchange ...
	Key      string // ... with the queue's name as routing key
	Queue    string
	Body     []byte // the body of every message, Scenario.Size bytes
	N        int    // messages in all
}

// PublishFunc is what each publishing goroutine runs: goroutine g (0 to
// Scenario.Goroutines-1, using channel g % Scenario.Channels) publishes
// count persistent messages and returns once the broker confirmed them all.
type PublishFunc func(ctx context.Context, g, count int) error

// Publisher is a library (or a mode of one) under benchmark.
type Publisher struct {
	// Lib is the benchmark name's lib= value.
	Lib string
	// Supports reports whether the library runs scenario s; nil means all.
	Supports func(s PublishScenario) bool
	// Prepare runs before the timer: dial and open Scenario.Channels
	// channels or publishers. It returns the function the publishing
	// goroutines run, and registers with b.Cleanup what must be closed.
	Prepare func(b *testing.B, run *PublishRun) PublishFunc
}

// RunPublish runs every scenario on every library that supports it, as
// sub-benchmarks named
// lib=<Lib>/<scenario>, libraries taking turns.
func RunPublish(b *testing.B, scenarios []PublishScenario, libs ...Publisher) {
	ran := false
	for _, s := range scenarios {
		for _, lib := range libs {
			if lib.Supports != nil && !lib.Supports(s) {
				continue
			}
			ran = true
			b.Run("lib="+lib.Lib+"/"+s.Name(), func(b *testing.B) { BenchPublish(b, s, lib) })
		}
	}
	if !ran {
		b.Skip("benchkit: no library runs these scenarios")
	}
}
