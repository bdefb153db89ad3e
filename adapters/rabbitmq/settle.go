package rabbitmq

import (
	"context"
	"errors"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
)

// settle performs the settlement the handler's result asks for (see
// warren.OutcomeOf and the table in docs/ARCHITECTURE.md) and reports it.
func (p *processor) settle(ctx context.Context, j job, err error, took time.Duration) {
	m := j.m
	ev := warren.SettleEvent{Queue: m.Queue, Route: m.Route, Attempt: m.Attempt, Duration: took, Err: err}
	out := warren.OutcomeOf(err)
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutdown cancelled the handler: the message goes back unhandled.
		j.ch.nack(j.tag, true)
		ev.Action = warren.ActionRequeue
	case out.Action == warren.ActionAck || out.Action == warren.ActionDrop:
		j.ch.ack(j.tag)
		ev.Action = out.Action
	case out.Action == warren.ActionRequeue:
		if p.requeues.exceeded(m, p.requeueLimit) {
			p.deadLetter(ctx, j, warren.ReasonRequeueLimit, err, &ev)
		} else {
			j.ch.nack(j.tag, true)
			ev.Action = warren.ActionRequeue
		}
	case out.Action == warren.ActionRetry:
		if delay, ok := p.policy.Next(m.Attempt); ok {
			p.retryLater(ctx, j, delay, err, &ev)
		} else {
			p.deadLetter(ctx, j, warren.ReasonError, err, &ev)
		}
	default:
		p.deadLetter(ctx, j, out.Reason, err, &ev)
	}
	p.observer.ObserveSettle(ev)
}

// deadLetter republishes the message to its dead-letter queue with the
// reason headers and acks it once the broker confirmed; if the publish
// fails it nacks without requeue, and the queue's x-dead-letter-exchange
// routes the message to the same dead-letter queue.
func (p *processor) deadLetter(ctx context.Context, j job, reason string, cause error, ev *warren.SettleEvent) {
	pub := deadletter.Publishing(j.m, reason, cause, time.Now())
	ev.Action, ev.Reason = warren.ActionDeadLetter, reason
	p.sendCopy(ctx, j, pub, ev)
}

// sendCopy publishes a settlement copy and acks j once the broker
// confirmed it; if the publish fails, republishFailed settles j. A copy
// whose confirm was lost is kept (copyMemo), for j's redelivery to send
// again.
func (p *processor) sendCopy(ctx context.Context, j job, pub *warren.Publishing, ev *warren.SettleEvent) {
	if err := p.republish(ctx, j.m, pub); err != nil {
		if errors.Is(err, ErrConfirmLost) {
			p.copied.lost(j.m, pub)
		}
		if ev.Action == warren.ActionRetry {
			ev.Action, ev.Reason = warren.ActionDeadLetter, warren.ReasonError
		}
		ev.Err = errors.Join(ev.Err, err)
		p.republishFailed(ctx, j, err, ev)
		return
	}
	p.copied.remember(j.m)
	j.ch.ack(j.tag)
}

// retryLater republishes the message to the wait queue of delay with its
// attempt incremented, and acks it once the broker confirmed. If the
// publish fails the message is nacked without requeue (dead-lettered by the
// broker) rather than retried in a loop.
func (p *processor) retryLater(ctx context.Context, j job, delay time.Duration, cause error, ev *warren.SettleEvent) {
	pub := deadletter.RetryPublishing(j.m, cause, time.Now(), warren.WaitQueue(j.m.Queue, delay))
	p.observer.ObserveRetry(warren.RetryEvent{
		Queue: j.m.Queue, Route: j.m.Route, Attempt: j.m.Attempt, Delay: delay, Delayed: true, Err: cause,
	})
	ev.Action = warren.ActionRetry
	p.sendCopy(ctx, j, pub, ev)
}

// republishFailed settles a message whose dead-letter or retry copy was
// not confirmed. warren nacks without requeue only where it knows a
// dead-letter route exists:
//   - the copy was unroutable even after the topology was declared again
//     (the dead-letter or wait queue is missing and cannot be made): the
//     queue's x-dead-letter-exchange routes to the same missing queue, so
//     the message is requeued after a pause instead, and reported
//     (ConsumerSettleRequeued);
//   - the confirm was lost with the publish channel (the copy may or may
//     not exist): requeued, so the next delivery settles it with warren's
//     headers rather than the broker dead-lettering it without them; a
//     redelivered message had its copy published again up to
//     maxCopyAttempts times first, and is requeued after a pause and
//     reported. A copy that did arrive makes a duplicate, never a loss;
//   - the broker blocked the publish connection (flow control) or the
//     settle timeout passed without a confirm: requeued, since a blocked
//     broker is a wait, not a failure of the message;
//   - the client is done (closed, or recovery gave up, ErrClosed):
//     requeued, if the channel still takes the nack;
//   - otherwise (a broker nack, headers that cannot fit a frame): nack
//     without requeue, and the dead-letter exchange takes it; on a queue
//     without a dead-letter exchange warren declared (WithAdoptQueue,
//     WithSkipDeclare) that would drop the message, so it is requeued
//     after a pause instead, and reported (ConsumerSettleRequeued).
func (p *processor) republishFailed(ctx context.Context, j job, err error, ev *warren.SettleEvent) {
	switch {
	case errors.Is(err, warren.ErrUnroutable):
		p.event(ConsumerEvent{Queue: j.m.Queue, Kind: ConsumerSettleRequeued, Route: j.m.Route, Err: err})
		pause(ctx, unroutablePause)
		j.ch.nack(j.tag, true)
		ev.Action, ev.Reason = warren.ActionRequeue, ""
	case errors.Is(err, ErrBlocked) || errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil || errors.Is(err, ErrClosed):
		// The broker blocks publishers (flow control), or did not confirm
		// within the settle timeout, or the client is done (closed, or its
		// recovery gave up): a wait or an end, not a failure of the message.
		j.ch.nack(j.tag, true)
		ev.Action, ev.Reason = warren.ActionRequeue, ""
	case errors.Is(err, ErrConfirmLost):
		if j.m.Redelivered { // and republish tried again: the channels keep failing
			p.event(ConsumerEvent{Queue: j.m.Queue, Kind: ConsumerSettleRequeued, Route: j.m.Route, Err: err})
			pause(ctx, unroutablePause)
		}
		j.ch.nack(j.tag, true)
		ev.Action, ev.Reason = warren.ActionRequeue, ""
	case !p.dlxKnown:
		p.event(ConsumerEvent{Queue: j.m.Queue, Kind: ConsumerSettleRequeued, Route: j.m.Route, Err: err})
		pause(ctx, unroutablePause)
		j.ch.nack(j.tag, true)
		ev.Action, ev.Reason = warren.ActionRequeue, ""
	default:
		j.ch.nack(j.tag, false)
	}
}

// unroutablePause is how long a worker holds a message whose settlement
// copy has nowhere to go before requeueing it, so that a missing queue
// makes a slow loop the Observer sees, not a hot one.
const unroutablePause = time.Second

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// republish publishes a settlement copy and waits for its confirm, within
// the settle timeout. A copy whose confirm was lost with its channel is
// published again if the message was already requeued once for that (a
// duplicate, if the first did arrive, never a loss; see republishFailed); a
// copy the broker returned as unroutable (its dead-letter or wait queue
// was deleted) is published again after the topology is declared again.
func (p *processor) republish(ctx context.Context, m *warren.Message, pub *warren.Publishing) error {
	if err := fitHeaders(pub, p.frameSize()); err != nil {
		if p.dlxKnown {
			return err // the broker's dead-lettering keeps every header
		}
		dropOwnHeaders(pub)
		if err := fitHeaders(pub, p.frameSize()); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.settleTimeout)
	defer cancel()
	redeclared := false
	for attempt := 1; ; attempt++ {
		err := p.copies.send.Publish(ctx, pub)
		switch {
		case err == nil || ctx.Err() != nil:
			return err
		case errors.Is(err, ErrConfirmLost) && m.Redelivered && attempt < maxCopyAttempts:
			continue
		case errors.Is(err, warren.ErrUnroutable) && p.redeclare != nil && !redeclared:
			if derr := p.redeclare(ctx); derr != nil {
				return errors.Join(err, derr)
			}
			redeclared = true
		default:
			return err
		}
	}
}

// maxCopyAttempts bounds the publishes of one settlement copy whose
// confirms keep getting lost.
const maxCopyAttempts = 3
