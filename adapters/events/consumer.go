package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// consumer is one Consume: a goroutine that reads one queue (the group's
// quorum queue, or the topic's stream queue) on a channel of its own,
// hands events to the user's channel, and starts again on a new channel
// when the old one is lost.
type consumer struct {
	stream     *RabbitStream
	topic      string
	o          ConsumeOptions
	fromStream bool
	queue      string
	dlq        string
	topo       warren.Topology
	tag        string
	out        chan Event
	ctx        context.Context
	cancel     context.CancelFunc

	// Owned by the run goroutine.
	restarts   int
	next       int64     // stream: offset to resume from; -1 before the first event
	attachedAt time.Time // stream: when the consumer first attached
	expiries   []expiry  // manual mode: ack deadlines, in emission order
	timer      *time.Timer

	mu        sync.Mutex
	live      map[*delivery]struct{} // manual mode: handed out, not settled
	redeliver []*delivery            // stream: due to be handed out again
	wake      chan struct{}
	stopped   bool
}

// session is one channel of a consumer. Its delivery tags die with it.
type session struct {
	ch     *amqp.Channel
	closes chan *amqp.Error
	dead   atomic.Bool
}

func (s *session) ack(tag uint64) error {
	if s.dead.Load() {
		return amqp.ErrClosed
	}
	return s.ch.Ack(tag, false)
}

func (s *session) nack(tag uint64, requeue bool) error {
	if s.dead.Load() {
		return amqp.ErrClosed
	}
	return s.ch.Nack(tag, false, requeue)
}

func (c *consumer) init() {
	c.tag = "events." + c.queue + "." + newID()
	if len(c.tag) > maxName {
		c.tag = "events." + newID()
	}
	c.out = make(chan Event)
	c.ctx, c.cancel = context.WithCancel(c.o.Context)
	c.live = map[*delivery]struct{}{}
	c.wake = make(chan struct{}, 1)
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
}

// start declares the topology, opens a channel and starts consuming,
// waiting for a lost connection to recover up to ctx.
func (c *consumer) start(ctx context.Context) (*session, <-chan amqp.Delivery, error) {
	if err := c.stream.ensureTopic(ctx, c.topic, c.restarts > 0); err != nil {
		return nil, nil, err
	}
	c.restarts++
	if err := c.stream.client.Declare(ctx, c.topo); err != nil {
		return nil, nil, err
	}
	ch, err := c.stream.client.Channel(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := ch.Qos(c.o.Prefetch, 0, false); err != nil {
		_ = ch.Close()
		return nil, nil, fmt.Errorf("set prefetch: %w", err)
	}
	var args amqp.Table
	if c.fromStream {
		args = amqp.Table{"x-stream-offset": c.startOffset()}
	}
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	deliveries, err := ch.Consume(c.queue, c.tag, false, false, false, false, args)
	if err != nil {
		_ = ch.Close()
		return nil, nil, fmt.Errorf("consume %q: %w", c.queue, err)
	}
	if c.fromStream && c.attachedAt.IsZero() {
		c.attachedAt = time.Now()
	}
	return &session{ch: ch, closes: closes}, deliveries, nil
}

// startOffset is where a stream consumer attaches: just after the last
// event it received; before any, at WithOffset's time (less a slack for
// clock differences; the surplus is filtered), or "next" on the first
// attach and, after a loss, the second the consumer first attached in.
func (c *consumer) startOffset() any {
	switch {
	case c.next >= 0:
		return c.next
	case !c.o.Offset.IsZero():
		return c.o.Offset.Add(-offsetSlack).Truncate(time.Second)
	case !c.attachedAt.IsZero():
		return c.attachedAt.Add(-time.Second).Truncate(time.Second)
	default:
		return "next"
	}
}

// run serves sessions until the consumer stops, starting a new one after
// each loss.
func (c *consumer) run(sess *session, deliveries <-chan amqp.Delivery) {
	defer c.stream.unregister(c)
	wait := 100 * time.Millisecond
	for {
		if c.serve(sess, deliveries) {
			c.shutdown(sess)
			return
		}
		c.lose(sess)
		c.stream.options.ErrorHandler(fmt.Errorf("warren/events: consumer of %s lost its channel; restarting", c.queue))
		for {
			var err error
			sess, deliveries, err = c.start(c.ctx)
			if err == nil {
				wait = 100 * time.Millisecond
				break
			}
			if c.ctx.Err() != nil || errors.Is(err, rabbitmq.ErrClosed) {
				if c.ctx.Err() == nil {
					c.stream.options.ErrorHandler(fmt.Errorf("warren/events: consumer of %s stops: %w", c.queue, err))
				}
				c.finish()
				return
			}
			c.stream.options.ErrorHandler(fmt.Errorf("warren/events: restart consumer of %s: %w", c.queue, err))
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.stream.client.Done(): // the next start returns the client's error
				t.Stop()
			case <-c.ctx.Done():
				t.Stop()
				c.finish()
				return
			}
			wait = min(2*wait, 5*time.Second)
		}
	}
}

// serve hands out the events of one session until the consumer stops
// (true) or the channel is lost (false).
func (c *consumer) serve(sess *session, deliveries <-chan amqp.Delivery) (stopping bool) {
	var pending *delivery
	for {
		if pending == nil {
			pending = c.popRedeliver()
		}
		if pending == nil {
			select {
			case m, ok := <-deliveries:
				if !ok {
					return c.ctx.Err() != nil
				}
				pending = c.accept(sess, &m)
			case <-c.wake:
			case <-c.timerC():
				c.expire()
			case <-c.ctx.Done():
				return true
			}
			continue
		}
		ev := c.prepare(pending)
		select {
		case c.out <- ev:
			c.emitted(pending)
			pending = nil
		case <-c.timerC():
			c.unprepare(pending, false)
			c.expire()
		case <-sess.closes:
			c.unprepare(pending, true)
			return c.ctx.Err() != nil
		case <-c.ctx.Done():
			c.unprepare(pending, false)
			return true
		}
	}
}

// accept turns a delivery into one to hand out, or settles it at once: a
// stream event before the resume point or the offset, a grouped event
// already delivered more often than the retry limit allows.
func (c *consumer) accept(sess *session, m *amqp.Delivery) *delivery {
	d := &delivery{c: c, sess: sess, msg: *m}
	if c.fromStream {
		if off, ok := warren.HeaderInt(m.Headers, brokerStreamOffset); ok {
			if c.next >= 0 && off < c.next {
				_ = sess.ack(m.DeliveryTag)
				return nil
			}
			c.next = off + 1
		}
		if !c.o.Offset.IsZero() && before(m, c.o.Offset) {
			_ = sess.ack(m.DeliveryTag)
			return nil
		}
		return d
	}
	n, _ := warren.HeaderInt(m.Headers, brokerDeliveryCount)
	d.base = int(n)
	if !c.o.AutoAck && c.o.RetryLimit >= 0 && d.base > c.o.RetryLimit {
		why := fmt.Sprintf("returned to the queue %d times (retry limit %d)", d.base, c.o.RetryLimit)
		if err := c.deadLetter(d, d.base, why); err != nil {
			c.stream.options.ErrorHandler(err)
		}
		return nil
	}
	return d
}

// before reports whether m was published before t: by HeaderPublishedAt,
// else by the AMQP timestamp (whole seconds); an event with neither is
// never before.
func before(m *amqp.Delivery, t time.Time) bool {
	if _, ok := warren.HeaderInt(m.Headers, HeaderPublishedAt); !ok {
		return !m.Timestamp.IsZero() && m.Timestamp.Before(t.Truncate(time.Second))
	}
	at, _ := publishedAt(m)
	return at.Before(t)
}

// lose retires a session whose channel is gone. A grouped event handed out
// on it is the broker's again (it redelivers it); a stream event stays
// with the consumer, which settles it locally.
func (c *consumer) lose(sess *session) {
	sess.dead.Store(true)
	_ = sess.ch.Close()
	if c.fromStream {
		return
	}
	c.mu.Lock()
	for d := range c.live {
		if d.sess == sess {
			d.lost = true
			delete(c.live, d)
		}
	}
	c.mu.Unlock()
}

// shutdown stops a consumer: no more deliveries, the user's channel
// closed, then a wait for the events handed out to be settled before the
// channel closes (which returns a group's unsettled events to its queue).
func (c *consumer) shutdown(sess *session) {
	_ = sess.ch.Cancel(c.tag, false)
	close(c.out)
	deadline := time.Now().Add(c.stream.options.ShutdownTimeout)
	for c.liveCount() > 0 && time.Now().Before(deadline) && !sess.dead.Load() {
		select {
		case <-sess.closes:
			sess.dead.Store(true)
		case <-time.After(10 * time.Millisecond):
		}
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	sess.dead.Store(true)
	_ = sess.ch.Close()
	c.timer.Stop()
	c.cancel()
}

// finish stops a consumer that has no channel.
func (c *consumer) finish() {
	close(c.out)
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.timer.Stop()
	c.cancel()
}

func (c *consumer) liveCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.live)
}
