package rabbitmq

import (
	"context"
	"errors"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
)

// settlePublishTimeout bounds a dead-letter or retry republish; past it the
// message is nacked without requeue and the queue's dead-letter exchange
// takes it.
const settlePublishTimeout = 30 * time.Second

// settle performs the settlement the handler's result asks for (see
// warren.OutcomeOf and the table in docs/ARCHITECTURE.md) and reports it.
func (c *Consumer) settle(p *pool, j job, err error, took time.Duration) {
	m := j.m
	ev := warren.SettleEvent{Queue: m.Queue, Route: m.Route, Attempt: m.Attempt, Duration: took, Err: err}
	out := warren.OutcomeOf(err)
	switch {
	case err != nil && p.aborted.Load():
		// Shutdown cancelled the handler: the message goes back unhandled.
		j.s.nack(j.tag, true)
		ev.Action = warren.ActionRequeue
	case out.Action == warren.ActionAck || out.Action == warren.ActionDrop:
		j.s.ack(j.tag)
		ev.Action = out.Action
	case out.Action == warren.ActionRequeue:
		if c.requeues.exceeded(m, c.cfg.requeueLimit) {
			c.deadLetter(p, j, warren.ReasonRequeueLimit, err, &ev)
		} else {
			j.s.nack(j.tag, true)
			ev.Action = warren.ActionRequeue
		}
	case out.Action == warren.ActionRetry:
		if delay, ok := c.cfg.retry.Next(m.Attempt); ok {
			c.retryLater(p, j, delay, err, &ev)
		} else {
			c.deadLetter(p, j, warren.ReasonError, err, &ev)
		}
	default:
		c.deadLetter(p, j, out.Reason, err, &ev)
	}
	c.client.cfg.observer.ObserveSettle(ev)
}

// deadLetter republishes the message to its dead-letter queue with the
// reason headers and acks it once the broker confirmed; if the publish
// fails it nacks without requeue, and the queue's x-dead-letter-exchange
// routes the message to the same dead-letter queue.
func (c *Consumer) deadLetter(p *pool, j job, reason string, cause error, ev *warren.SettleEvent) {
	pub := deadletter.Publishing(j.m, reason, cause, time.Now())
	ev.Action, ev.Reason = warren.ActionDeadLetter, reason
	if err := c.republish(p, pub); err != nil {
		ev.Err = errors.Join(cause, err)
		c.republishFailed(j, err, ev)
		return
	}
	j.s.ack(j.tag)
}

// republishFailed settles a message whose dead-letter or retry copy was
// not confirmed. Normally: nack without requeue, and the queue's
// x-dead-letter-exchange takes it. But when the confirm was lost with the
// publish channel (the copy may or may not exist) and the message has not
// been redelivered yet, it is requeued once instead: the next delivery
// settles it with warren's headers, rather than the broker dead-lettering
// it without them. A copy that did arrive makes a duplicate, never a loss.
func (c *Consumer) republishFailed(j job, err error, ev *warren.SettleEvent) {
	if errors.Is(err, ErrConfirmLost) && !j.m.Redelivered {
		j.s.nack(j.tag, true)
		ev.Action, ev.Reason = warren.ActionRequeue, ""
		return
	}
	j.s.nack(j.tag, false)
}

// retryLater republishes the message to the wait queue of delay with its
// attempt incremented, and acks it once the broker confirmed. If the
// publish fails the message is nacked without requeue (dead-lettered by the
// broker) rather than retried in a loop.
func (c *Consumer) retryLater(p *pool, j job, delay time.Duration, cause error, ev *warren.SettleEvent) {
	pub := deadletter.RetryPublishing(j.m, cause, time.Now(), warren.WaitQueue(j.m.Queue, delay))
	c.client.cfg.observer.ObserveRetry(warren.RetryEvent{
		Queue: j.m.Queue, Route: j.m.Route, Attempt: j.m.Attempt, Delay: delay, Delayed: true, Err: cause,
	})
	if err := c.republish(p, pub); err != nil {
		ev.Action, ev.Reason, ev.Err = warren.ActionDeadLetter, warren.ReasonError, errors.Join(cause, err)
		c.republishFailed(j, err, ev)
		return
	}
	ev.Action = warren.ActionRetry
	j.s.ack(j.tag)
}

func (c *Consumer) republish(p *pool, pub *warren.Publishing) error {
	if err := fitHeaders(pub); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(p.ctx, settlePublishTimeout)
	defer cancel()
	return c.client.publisher.Publish(ctx, pub)
}
