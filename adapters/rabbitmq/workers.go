package rabbitmq

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// job is one delivery on its way to a worker: the message, its tag, and
// the channel the tag belongs to.
type job struct {
	m   *warren.Message
	tag uint64
	ch  *consumeChannel
}

// workers run the consumer's handlers. Without OrderBy every idle worker
// receives the next delivery of the current subscription itself (see
// feed), so deliveries wait in the library's channel while workers are
// busy and the rest stay with the broker's prefetch. With OrderBy each
// worker has a lane, the consumer receives and a message goes to the lane
// of its key's hash, so messages with one key are handled in order. Each
// job goes to the processor; workers own nothing else.
type workers struct {
	proc    *processor
	stop    <-chan struct{} // closed when a shutdown begins
	n       int
	feeds   *feeds        // without OrderBy: the subscriptions the workers receive from
	closing chan struct{} // closed by close: workers following feeds return
	lanes   []chan job
	orderBy func(*warren.Message) string
	seed    maphash.Seed
	ctx     context.Context // every handler's context; cancelled to abort them
	abort   context.CancelFunc

	inflight sync.WaitGroup // with OrderBy: jobs submitted and not yet settled or skipped
	running  sync.WaitGroup
}

func newWorkers(ctx context.Context, proc *processor, n int, orderBy func(*warren.Message) string, stop <-chan struct{}) *workers {
	ctx, abort := context.WithCancel(ctx)
	w := &workers{proc: proc, stop: stop, n: n, orderBy: orderBy, seed: maphash.MakeSeed(), ctx: ctx, abort: abort}
	w.running.Add(n)
	if orderBy == nil {
		first := newFeed(nil, nil, 0) // offered by nobody: the workers wait for the next
		w.feeds = &feeds{tail: first}
		w.closing = make(chan struct{})
		for range n {
			go w.follow(first)
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

// receiving reports whether the workers receive deliveries themselves
// (offer), rather than from the consumer (submit).
func (w *workers) receiving() bool { return w.feeds != nil }

// offer gives the workers a subscription's deliveries on ch to receive
// and handle; the feed it returns ends when they are over.
func (w *workers) offer(ch *consumeChannel, deliveries <-chan amqp.Delivery) *feed {
	return w.feeds.offer(ch, deliveries, w.n)
}

// follow is a worker without OrderBy: it receives from each feed in turn,
// from the one after start, until close.
func (w *workers) follow(start *feed) {
	defer w.running.Done()
	f := start
	for {
		select {
		case <-f.replaced:
		case <-w.closing:
			return
		}
		f = f.next
		w.receive(f)
		f.left.Done()
	}
}

// receive handles f's deliveries until they end or f is withdrawn. A
// delivery received when a shutdown began, or whose channel is gone, is
// tracked and left unsettled: closing the channel returns it to the queue.
func (w *workers) receive(f *feed) {
	// d is reused for every delivery, as in the consumer's dispatch: a
	// fresh one would move to the heap for each message.
	var d amqp.Delivery
	var ok bool
	for {
		select {
		case d, ok = <-f.deliveries:
		case <-f.withdrawn:
			return
		}
		if !ok {
			f.end()
			return
		}
		m := messages.Acquire()
		messages.FromDelivery(m, &d, f.ch.queue)
		f.ch.track(&d)
		if !isClosed(w.stop) && f.ch.usable() {
			w.proc.process(w.ctx, job{m: m, tag: d.DeliveryTag, ch: f.ch})
		}
		messages.Release(m)
	}
}

// submit hands a job to its key's lane (OrderBy), waiting for room. It
// returns false if a shutdown began first; the job's message is then
// released.
func (w *workers) submit(j job) bool {
	dest := w.lanes[maphash.String(w.seed, w.orderBy(j.m))%uint64(len(w.lanes))]
	w.inflight.Add(1)
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
		if w.receiving() {
			// Every worker leaves the newest feed only after the older
			// ones, once its handler returned.
			last := w.feeds.last()
			last.withdraw()
			last.left.Wait()
		} else {
			w.inflight.Wait()
		}
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
	if w.receiving() {
		close(w.closing)
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
