package rabbitmq

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/warren-mq/warren"
)

// job is one delivery on its way to a worker: the message, its tag, and
// the channel the tag belongs to.
type job struct {
	m   *warren.Message
	tag uint64
	ch  *consumeChannel
}

// workers run the consumer's handlers. Without OrderBy every worker takes
// jobs from one channel buffered to the number of workers, so deliveries
// wait in it only while workers are busy and the rest stay with the
// broker's prefetch. With OrderBy each worker has a lane and a message goes
// to the lane of its key's hash, so messages with one key are handled in
// order. Each job goes to the processor; workers own nothing else.
type workers struct {
	proc    *processor
	stop    <-chan struct{} // closed when a shutdown begins
	work    chan job
	lanes   []chan job
	orderBy func(*warren.Message) string
	seed    maphash.Seed
	ctx     context.Context // every handler's context; cancelled to abort them
	abort   context.CancelFunc

	inflight sync.WaitGroup // jobs submitted and not yet settled or skipped
	running  sync.WaitGroup
}

func newWorkers(ctx context.Context, proc *processor, n int, orderBy func(*warren.Message) string, stop <-chan struct{}) *workers {
	ctx, abort := context.WithCancel(ctx)
	w := &workers{proc: proc, stop: stop, orderBy: orderBy, seed: maphash.MakeSeed(), ctx: ctx, abort: abort}
	w.running.Add(n)
	if orderBy == nil {
		w.work = make(chan job, n)
		for range n {
			go w.run(w.work)
		}
		return w
	}
	w.lanes = make([]chan job, n)
	for i := range w.lanes {
		w.lanes[i] = make(chan job, 16)
		go w.run(w.lanes[i])
	}
	return w
}

// submit hands a job to a worker, waiting for one to be free. It returns
// false if a shutdown began first; the job's message is then released.
func (w *workers) submit(j job) bool {
	dest := w.work
	if w.lanes != nil {
		dest = w.lanes[maphash.String(w.seed, w.orderBy(j.m))%uint64(len(w.lanes))]
	}
	w.inflight.Add(1)
	select {
	case dest <- j: // a worker or a place in the buffer is free
		return true
	default:
	}
	select {
	case dest <- j:
		return true
	case <-w.stop:
		w.inflight.Done()
		messages.Release(j.m)
		return false
	}
}

func (w *workers) run(jobs <-chan job) {
	defer w.running.Done()
	for j := range jobs {
		// A job not started when shutdown began, or whose channel is gone,
		// is left unsettled: closing the channel returns it to the queue.
		if !isClosed(w.stop) && j.ch.usable() {
			w.proc.process(w.ctx, j)
		}
		messages.Release(j.m)
		w.inflight.Done()
	}
}

// drain waits for in-flight jobs until deadline, then cancels their
// context and waits grace more. It returns an error if handlers are still
// running after that.
func (w *workers) drain(deadline time.Time, grace time.Duration, queue string) error {
	done := make(chan struct{})
	go func() {
		w.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(time.Until(deadline)):
	}
	w.abort()
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("warren/rabbitmq: consumer %s: handlers still running %v after their context was cancelled; "+
			"their messages return to the queue", queue, grace)
	}
}

// close stops the workers; wait says whether to wait for them to return.
func (w *workers) close(wait bool) {
	w.abort()
	if w.lanes == nil {
		close(w.work)
	} else {
		for _, l := range w.lanes {
			close(l)
		}
	}
	if wait {
		w.running.Wait()
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
