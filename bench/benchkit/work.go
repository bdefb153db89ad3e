package benchkit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Work is what a handler does with each message, the same in every
// library: nothing, a sleep (I/O-bound), or a fixed amount of CPU.
type Work struct {
	// Name is the scenario's handler= value.
	Name string
	// Sleep is how long the handler sleeps.
	Sleep time.Duration
	// Spin is how long the handler computes, calibrated once per process
	// into a fixed number of iterations, so preemption does not shorten it.
	Spin  time.Duration
	spins int
}

// Handler kinds the scenarios use.
var (
	Noop    = Work{Name: "noop"}
	Sleep1  = Work{Name: "sleep1ms", Sleep: time.Millisecond}
	CPU50us = Work{Name: "cpu50us", Spin: 50 * time.Microsecond}
)

// Do does the work for one message body.
func (w *Work) Do(body []byte) {
	if w.Sleep > 0 {
		time.Sleep(w.Sleep)
	}
	if w.Spin > 0 {
		spinSink.Add(spin(w.spins, body))
	}
}

// prepare calibrates Spin into iterations.
func (w *Work) prepare() {
	if w.Spin > 0 {
		w.spins = spinsFor(w.Spin)
	}
}

var (
	calibrateOnce sync.Once
	spinsPerMs    int
)

// spinsFor returns how many spin iterations take d on this machine: the
// fastest of a few timed runs, measured once per process.
func spinsFor(d time.Duration) int {
	calibrateOnce.Do(func() {
		const probe = 200_000
		best := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			spinSink.Add(spin(probe, nil))
			best = min(best, time.Since(start))
		}
		spinsPerMs = int(float64(probe) * float64(time.Millisecond) / float64(best))
	})
	return max(1, int(float64(spinsPerMs)*float64(d)/float64(time.Millisecond)))
}

// spinSink keeps the compiler from removing the spin loop.
var spinSink atomic.Uint64

// spin runs n rounds of an xorshift generator seeded from body.
func spin(n int, body []byte) uint64 {
	x := uint64(88172645463325252)
	if len(body) > 0 {
		x ^= uint64(body[0])
	}
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
