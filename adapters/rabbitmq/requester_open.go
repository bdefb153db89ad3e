package rabbitmq

import (
	"context"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/confirm"
)

// session returns the requester's open session, opening one if there is
// none or its channel closed. One caller opens while the others wait, each
// up to its own context.
func (r *Requester) session(ctx context.Context) (*replySession, error) {
	if s, err := r.current(); s != nil || err != nil {
		return s, err
	}
	select {
	case r.opening <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the requester channel: %w", ctx.Err())
	}
	defer func() { <-r.opening }()
	if s, err := r.current(); s != nil || err != nil {
		return s, err // another caller opened it meanwhile
	}
	return r.open(ctx)
}

// current returns the live session, nil if there is none, or
// ErrRequesterClosed.
func (r *Requester) current() (*replySession, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrRequesterClosed
	}
	if r.sess != nil && !r.sess.gone() {
		return r.sess, nil
	}
	return nil, nil
}

// open opens a channel on the publishing connection (waiting for recovery
// up to ctx), puts it in confirm mode, starts consuming replies on it and
// starts its listener.
func (r *Requester) open(ctx context.Context) (*replySession, error) {
	ch, _, err := r.conn.channel(ctx)
	if err != nil {
		return nil, err
	}
	fail := func(what string, err error) (*replySession, error) {
		_ = ch.Close()
		return nil, fmt.Errorf("warren/rabbitmq: requester: %s: %w", what, err)
	}
	if err := ch.Confirm(false); err != nil {
		return fail("enable publisher confirms", err)
	}
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	tracker := confirm.Watch(ch, &r.wg, ErrRequestLost)
	replyTo := warren.DirectReplyTo
	if r.cfg.replyQueue {
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			return fail("declare reply queue", err)
		}
		replyTo = q.Name
	}
	tag := consumerTag(r.client.Name() + ".requester")
	deliveries, err := ch.Consume(replyTo, tag, true, r.cfg.replyQueue, false, false, nil)
	if err != nil {
		return fail("consume replies from "+replyTo, err)
	}
	s := newReplySession(ch, tracker, replyTo, func() { r.dropped.Add(1) })
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = ch.Close()
		return nil, ErrRequesterClosed
	}
	r.sess = s
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		s.listen(deliveries, closes)
		// A channel closed by the broker may mean an exchange is gone:
		// check again before the next request to each service.
		r.known.Clear()
	}()
	return s, nil
}

// checkService makes sure the service's request exchange exists, once per
// exchange (and again after a channel loss). Publishing to a missing
// exchange would close the requester's channel and fail every request in
// flight on it; checking first (passively, on a channel of its own) makes
// it a fast, clear error for that request alone. The requester does not
// declare the exchange: the service's consumer does, and an exchange with
// no queue would take the request nowhere.
func (r *Requester) checkService(ctx context.Context, exchange string) error {
	if _, ok := r.known.Load(exchange); ok {
		return nil
	}
	ch, _, err := r.conn.channel(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	err = ch.ExchangeDeclarePassive(exchange, warren.KindDirect, true, false, false, false, nil)
	var ae *amqp.Error
	switch {
	case err == nil:
		r.known.Store(exchange, struct{}{})
		return nil
	case errors.As(err, &ae) && ae.Code == amqp.NotFound:
		return fmt.Errorf("exchange %s does not exist (is the service deployed?): %w", exchange, warren.ErrUnroutable)
	default:
		return fmt.Errorf("check exchange %s: %w", exchange, err)
	}
}
