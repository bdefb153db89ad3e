package benchkit

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// Stall is how long a run may go without a single message handled before
// the harness gives up on it.
const Stall = 30 * time.Second

// BenchConsume is one consume benchmark: outside the timer it declares
// s.Queues fresh queues and fills them with b.N persistent messages, then
// lets lib prepare; it times lib draining them (until b.N messages went
// through run.Handle) and reports msg/s; outside the timer again it stops
// the library and checks that every message was settled: the queues are
// empty once the library's channels are closed.
func BenchConsume(b *testing.B, s ConsumeScenario, lib Consumer) {
	b.ReportAllocs()
	admin := Dial(b, "admin")
	queues := Queues(b, admin, s.Queues)
	Fill(b, admin, queues, b.N, s.Size)
	run := newConsumeRun(s, URL(), queues, b.N)
	consume := lib.Prepare(b, run)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	runtime.GC()
	b.ResetTimer()
	stopProfile := startProfile(b)
	stopCallgrind := startCallgrind(b)
	start, cpuStart := time.Now(), processCPU()
	go func() { errc <- consume(ctx) }()
	early, stalled := awaitDone(run, errc)
	elapsed, cpu := time.Since(start), processCPU()-cpuStart
	stopCallgrind()
	stopProfile()
	b.StopTimer()
	cancel()

	if early != nil {
		b.Fatalf("benchkit: %s stopped after %d of %d messages: %v", lib.Lib, run.Handled(), run.N, *early)
	}
	err := stop(errc)
	switch {
	case stalled:
		b.Fatalf("benchkit: %s handled nothing for %v, at %d of %d messages (stop: %v)",
			lib.Lib, Stall, run.Handled(), run.N, err)
	case errors.Is(err, errStopTimeout):
		b.Fatalf("benchkit: %s did not stop within %v of being cancelled", lib.Lib, Stall)
	case err != nil && !errors.Is(err, context.Canceled):
		b.Errorf("benchkit: %s: %v", lib.Lib, err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	// The client's CPU per message: on a machine the broker shares, every
	// microsecond the client spends is one the broker does not get, and
	// unlike msg/s it hardly depends on what else the machine is doing.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/msg")

	if n := run.badSize.Load(); n > 0 {
		b.Errorf("benchkit: %d bodies were not %d bytes long", n, s.Size)
	}
	if got := run.Handled(); got != run.N {
		b.Errorf("benchkit: %s handled %d messages, want %d", lib.Lib, got, run.N)
	}
	if left, each := Depth(b, admin, queues); left != 0 {
		b.Errorf("benchkit: %s left %d messages unacked (per queue %v)", lib.Lib, left, each)
	}
}

// awaitDone waits until run has handled every message, the consumer
// returned early (early is its error), or nothing moved for Stall.
func awaitDone(run *ConsumeRun, errc <-chan error) (early *error, stalled bool) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, since := run.Handled(), time.Now()
	for {
		select {
		case <-run.Done():
			return nil, false
		case err := <-errc:
			return &err, false
		case now := <-tick.C:
			if n := run.Handled(); n != last {
				last, since = n, now
			} else if now.Sub(since) > Stall {
				return nil, true
			}
		}
	}
}

var errStopTimeout = errors.New("benchkit: stop timed out")

// stop waits for the cancelled consumer to return.
func stop(errc <-chan error) error {
	select {
	case err := <-errc:
		return err
	case <-time.After(Stall):
		return errStopTimeout
	}
}
