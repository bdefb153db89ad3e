package rabbitmq

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/transport"
)

// pool is the consumer's set of workers. Without OrderBy every worker takes
// jobs from one unbuffered channel, so a delivery is handed over only when
// a worker is free and the rest stay with the broker's prefetch. With
// OrderBy each worker has a lane and a message goes to the lane of its
// key's hash, so messages with one key are handled in order.
type pool struct {
	c       *Consumer
	work    chan job
	lanes   []chan job
	seed    maphash.Seed
	ctx     context.Context // every handler's context: publisher and observer in it
	abort   context.CancelFunc
	aborted atomic.Bool

	inflight sync.WaitGroup // jobs submitted and not yet settled or skipped
	workers  sync.WaitGroup
}

type job struct {
	m   *warren.Message
	tag uint64
	s   *session
}

func newPool(c *Consumer) *pool {
	base, abort := context.WithCancel(context.Background())
	base = warren.ContextWithPublisher(base, c.client.publisher)
	base = warren.ContextWithObserver(base, c.client.cfg.observer)
	p := &pool{c: c, ctx: base, abort: abort, seed: maphash.MakeSeed()}
	n := c.cfg.workers
	p.workers.Add(n)
	if c.cfg.orderBy == nil {
		p.work = make(chan job, n)
		for i := 0; i < n; i++ {
			go p.run(p.work)
		}
		return p
	}
	p.lanes = make([]chan job, n)
	for i := range p.lanes {
		p.lanes[i] = make(chan job, 16)
		go p.run(p.lanes[i])
	}
	return p
}

// submit hands a delivery to a worker, waiting for one to be free. It
// returns false if a shutdown began first.
// messages are the root's message pool and delivery conversion.
var messages = transport.Get[*warren.Message]()

func (p *pool) submit(s *session, d *amqp.Delivery) bool {
	m := messages.Acquire()
	messages.FromDelivery(m, d, p.c.spec.Queue.Name)
	j := job{m: m, tag: d.DeliveryTag, s: s}
	dest := p.work
	if p.lanes != nil {
		dest = p.lanes[maphash.String(p.seed, p.c.cfg.orderBy(m))%uint64(len(p.lanes))]
	}
	p.inflight.Add(1)
	select {
	case dest <- j:
		return true
	case <-p.c.stop:
		p.inflight.Done()
		messages.Release(m)
		return false
	}
}

func (p *pool) run(jobs <-chan job) {
	defer p.workers.Done()
	for j := range jobs {
		// A job not started when shutdown began, or whose channel is gone,
		// is left unsettled: closing the channel returns it to the queue.
		if !p.c.stopping() && j.s.alive() && !j.s.ch.IsClosed() {
			p.handle(j)
		}
		messages.Release(j.m)
		p.inflight.Done()
	}
}

func (p *pool) handle(j job) {
	start := time.Now()
	err := p.serve(j.m)
	p.c.settle(p, j, err, time.Since(start))
}

// serve runs the router, turning a panic that escaped every middleware
// into a *warren.PanicError: the worker, and the process, survive.
func (p *pool) serve(m *warren.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &warren.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return p.c.router.ServeMessage(p.ctx, m)
}

// close shuts the pool down: it stops the consumer (basic.cancel) on s,
// waits for in-flight handlers until deadline, then cancels their context
// and waits a little more; it flushes s's acks and closes its channel,
// which returns prefetched messages no handler started to the queue.
func (p *pool) close(s *session, deadline time.Time) error {
	if s != nil {
		_ = s.ch.Cancel(p.c.tag, false)
	}
	done := make(chan struct{})
	go func() {
		p.inflight.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		p.aborted.Store(true)
		p.abort()
		select {
		case <-done:
		case <-time.After(p.c.cfg.abortGrace):
			err = fmt.Errorf("warren/rabbitmq: consumer %s: handlers still running %v after their context was cancelled; "+
				"their messages return to the queue", p.c.spec.Queue.Name, p.c.cfg.abortGrace)
		}
	}
	if s != nil {
		s.flushAll()
		s.kill()
		_ = s.ch.Close()
	}
	p.abort()
	if p.lanes == nil {
		close(p.work)
	} else {
		for _, l := range p.lanes {
			close(l)
		}
	}
	if err == nil {
		p.workers.Wait()
	}
	return err
}
