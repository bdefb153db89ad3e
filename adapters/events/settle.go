package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
)

// delivery is one message a consumer received, through every time it is
// handed out. The fields below msg are guarded by the consumer's mu.
type delivery struct {
	c    *consumer
	sess *session
	msg  amqp.Delivery
	base int // deliveries before this one (the quorum queue's x-delivery-count)

	gen        int  // times handed out by this consumer
	expiredGen int  // the last copy whose ack wait ran out
	requeued   bool // stream: waiting to be handed out again
	settled    bool
	lost       bool // group: its channel died; the broker has it back
}

// expiry is the ack deadline of one copy of a delivery.
type expiry struct {
	d   *delivery
	gen int
	at  time.Time
}

// prepare records that d is about to be handed out and returns the copy
// to send. unprepare undoes it if the send did not happen.
func (c *consumer) prepare(d *delivery) Event {
	ev := eventOf(&d.msg, c.topic)
	if c.o.AutoAck {
		ev.attempt = d.base + 1
		return ev
	}
	c.mu.Lock()
	d.gen++
	d.requeued = false
	c.live[d] = struct{}{}
	gen := d.gen
	ev.attempt = d.base + gen
	c.mu.Unlock()
	ev.SetAckFunc(func() error { return c.ack(d, gen) })
	ev.SetNackFunc(func() error { return c.nack(d, gen, "nacked by the consumer") })
	return ev
}

// unprepare takes back a copy that was not sent. After a lost channel a
// grouped event is the broker's again; a stream event waits to be sent on
// the next channel.
func (c *consumer) unprepare(d *delivery, lost bool) {
	if !c.o.AutoAck {
		c.mu.Lock()
		d.gen--
		delete(c.live, d)
		c.mu.Unlock()
	}
	if lost && c.fromStream {
		c.mu.Lock()
		c.redeliver = append([]*delivery{d}, c.redeliver...)
		c.mu.Unlock()
	}
}

// emitted settles an auto-acked event, or starts a manual one's ack wait.
func (c *consumer) emitted(d *delivery) {
	if c.o.AutoAck {
		_ = d.sess.ack(d.msg.DeliveryTag)
		return
	}
	c.mu.Lock()
	gen := d.gen
	c.mu.Unlock()
	c.expiries = append(c.expiries, expiry{d: d, gen: gen, at: time.Now().Add(c.o.AckWait)})
	if len(c.expiries) == 1 {
		c.arm()
	}
}

func (c *consumer) arm() {
	if len(c.expiries) > 0 {
		c.timer.Reset(time.Until(c.expiries[0].at))
	}
}

func (c *consumer) timerC() <-chan time.Time {
	if len(c.expiries) == 0 {
		return nil
	}
	return c.timer.C
}

// expire redelivers (or dead-letters) every copy whose ack wait is over.
func (c *consumer) expire() {
	now := time.Now()
	for len(c.expiries) > 0 && !c.expiries[0].at.After(now) {
		e := c.expiries[0]
		c.expiries[0] = expiry{}
		c.expiries = c.expiries[1:]
		c.mu.Lock()
		if c.checkLocked(e.d, e.gen) != nil {
			c.mu.Unlock()
			continue
		}
		e.d.expiredGen = e.gen
		dl, attempt := c.requeueLocked(e.d)
		c.mu.Unlock()
		if err := c.afterRequeue(e.d, dl, attempt, fmt.Sprintf("not acked within %v", c.o.AckWait)); err != nil {
			c.stream.options.ErrorHandler(err)
		}
	}
	c.arm()
}

// checkLocked reports why copy gen of d can no longer be settled.
func (c *consumer) checkLocked(d *delivery, gen int) error {
	switch {
	case gen == d.expiredGen:
		return ErrRedelivered
	case d.lost:
		return ErrConnectionLost
	case d.settled || (d.requeued && gen == d.gen):
		return ErrAlreadySettled
	case gen != d.gen:
		return ErrRedelivered
	case c.stopped:
		return ErrClosed
	}
	return nil
}

func (c *consumer) ack(d *delivery, gen int) error {
	c.mu.Lock()
	if err := c.checkLocked(d, gen); err != nil {
		c.mu.Unlock()
		return err
	}
	d.settled = true
	delete(c.live, d)
	c.mu.Unlock()
	if err := d.sess.ack(d.msg.DeliveryTag); err != nil && !c.fromStream {
		return fmt.Errorf("%w: ack event %s: %v", ErrConnectionLost, d.msg.MessageId, err)
	}
	return nil
}

func (c *consumer) nack(d *delivery, gen int, why string) error {
	c.mu.Lock()
	if err := c.checkLocked(d, gen); err != nil {
		c.mu.Unlock()
		return err
	}
	dl, attempt := c.requeueLocked(d)
	c.mu.Unlock()
	return c.afterRequeue(d, dl, attempt, why)
}

// requeueLocked takes d back from the user and reports whether it is to be
// dead-lettered: whether this delivery was the last the retry limit allows.
func (c *consumer) requeueLocked(d *delivery) (deadLetter bool, attempt int) {
	delete(c.live, d)
	attempt = d.base + d.gen
	if c.o.RetryLimit >= 0 && attempt > c.o.RetryLimit {
		d.settled = true
		return true, attempt
	}
	if c.fromStream {
		d.requeued = true
	} else {
		d.settled = true
	}
	return false, attempt
}

// afterRequeue redelivers d: a stream event by handing it out again, a
// grouped one by nack(requeue) so the broker redelivers it (to any member
// of the group); or dead-letters it.
func (c *consumer) afterRequeue(d *delivery, deadLetter bool, attempt int, why string) error {
	if deadLetter {
		return c.deadLetter(d, attempt, fmt.Sprintf("%s at delivery %d (retry limit %d)", why, attempt, c.o.RetryLimit))
	}
	if c.fromStream {
		c.pushRedeliver(d)
		return nil
	}
	if err := d.sess.nack(d.msg.DeliveryTag, true); err != nil {
		return fmt.Errorf("%w: nack event %s: %v", ErrConnectionLost, d.msg.MessageId, err)
	}
	return nil
}

// deadLetter publishes a copy of d to the dead-letter queue, built by
// deadletter.Publishing as the consumer engine's are (reason
// warren.ReasonRequeueLimit, why as the error), waits for the confirm,
// then acks d. If the publish fails, a grouped event is nacked without
// requeue, so that its queue's dead-letter exchange takes it; a stream
// event is handed out again, and dead-lettering is tried again at its
// next nack or timeout.
func (c *consumer) deadLetter(d *delivery, attempt int, why string) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.stream.options.Timeout)
	defer cancel()
	pub := deadletter.Publishing(c.failed(d, attempt), warren.ReasonRequeueLimit, errors.New(why), time.Now())
	err := c.stream.client.Publisher().Publish(ctx, pub)
	if err == nil {
		_ = d.sess.ack(d.msg.DeliveryTag)
		return nil
	}
	err = fmt.Errorf("warren/events: dead-letter event %s to %s: %w", d.msg.MessageId, c.dlq, err)
	if !c.fromStream {
		if nerr := d.sess.nack(d.msg.DeliveryTag, false); nerr == nil {
			c.stream.options.ErrorHandler(fmt.Errorf("%w; nacked it to the queue's dead-letter exchange instead", err))
			return nil
		}
		return err
	}
	c.mu.Lock()
	d.settled = false
	c.mu.Unlock()
	c.pushRedeliver(d)
	return err
}

// failed is d as the warren.Message that deadletter.Publishing copies:
// its properties, body and headers (less the broker's delivery headers),
// consumed from c.queue, published to the topic, at delivery attempt.
func (c *consumer) failed(d *delivery, attempt int) *warren.Message {
	m := &d.msg
	h := make(amqp.Table, len(m.Headers))
	for k, v := range m.Headers {
		if k != brokerStreamOffset && k != brokerDeliveryCount {
			h[k] = v
		}
	}
	return &warren.Message{
		Exchange:        m.Exchange,
		RoutingKey:      c.topic,
		Queue:           c.queue,
		Attempt:         attempt,
		Headers:         h,
		Body:            m.Body,
		ContentType:     m.ContentType,
		ContentEncoding: m.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		Priority:        m.Priority,
		CorrelationID:   m.CorrelationId,
		ReplyTo:         m.ReplyTo,
		MessageID:       m.MessageId,
		Timestamp:       m.Timestamp,
		Type:            m.Type,
		UserID:          m.UserId,
		AppID:           m.AppId,
	}
}

func (c *consumer) pushRedeliver(d *delivery) {
	c.mu.Lock()
	d.requeued = true
	c.redeliver = append(c.redeliver, d)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *consumer) popRedeliver() *delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.redeliver) == 0 {
		return nil
	}
	d := c.redeliver[0]
	c.redeliver[0] = nil
	c.redeliver = c.redeliver[1:]
	return d
}
