package rabbitmq

import (
	"context"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// consumeChannel is the consumer's channel and its ack tracker: the only
// code that touches the consuming *amqp.Channel. It opens the channel,
// declares, subscribes, resubscribes for a new prefetch, settles tags
// through its tracker, and closes. When the channel is lost a new
// consumeChannel replaces it; the old one's tags die with it.
type consumeChannel struct {
	ch     *amqp.Channel
	acks   *ackTracker
	queue  string
	tag    string
	closes chan *amqp.Error // why the broker or the library closed ch
}

// consumeSetup is what opening a consuming channel needs.
type consumeSetup struct {
	queue     string
	tag       string
	topology  *warren.Topology // nil: declare nothing
	prefetch  int
	ackBatch  int
	ackFailed func(error)
}

// openConsumeChannel opens a channel on conn (waiting for recovery up to
// ctx), declares the topology, sets the prefetch and subscribes.
func openConsumeChannel(ctx context.Context, conn *connection, s consumeSetup) (*consumeChannel, <-chan amqp.Delivery, error) {
	ch, _, err := conn.channel(ctx)
	if err != nil {
		return nil, nil, err
	}
	cc := &consumeChannel{ch: ch, queue: s.queue, tag: s.tag}
	cc.closes = ch.NotifyClose(make(chan *amqp.Error, 1))
	if s.topology != nil {
		if err := declare(ch, *s.topology); err != nil {
			_ = ch.Close()
			return nil, nil, err
		}
	}
	if err := ch.Qos(s.prefetch, 0, false); err != nil {
		_ = ch.Close()
		return nil, nil, fmt.Errorf("warren/rabbitmq: set prefetch: %w", err)
	}
	deliveries, err := cc.subscribe()
	if err != nil {
		_ = ch.Close()
		return nil, nil, err
	}
	cc.acks = newAckTracker(ch, s.ackBatch, s.ackFailed)
	return cc, deliveries, nil
}

// subscribe starts consuming the queue (basic.consume).
func (cc *consumeChannel) subscribe() (<-chan amqp.Delivery, error) {
	d, err := cc.ch.ConsumeWithContext(context.Background(), cc.queue, cc.tag, false, false, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("warren/rabbitmq: consume %q: %w", cc.queue, err)
	}
	return d, nil
}

// changePrefetch sets a new prefetch, with ackBatch the ack batch that goes
// with it, and cancels the subscription: the broker applies basic.qos to
// consumers started after it, so once the old subscription's deliveries
// end the caller subscribes again.
func (cc *consumeChannel) changePrefetch(n, ackBatch int) error {
	if err := cc.ch.Qos(n, 0, false); err != nil {
		return err
	}
	cc.acks.setBatch(ackBatch)
	return cc.ch.Cancel(cc.tag, false)
}

// track records a delivered tag before it goes to a worker.
func (cc *consumeChannel) track(d *amqp.Delivery) { cc.acks.trackKey(d.DeliveryTag, d.RoutingKey) }

// ack settles tag as handled (coalesced).
func (cc *consumeChannel) ack(tag uint64) { cc.acks.ack(tag) }

// nack settles tag with basic.nack, requeued or to the dead-letter exchange.
func (cc *consumeChannel) nack(tag uint64, requeue bool) { cc.acks.nack(tag, requeue) }

// usable reports whether tags of this channel can still be settled.
func (cc *consumeChannel) usable() bool { return cc.acks.alive() && !cc.ch.IsClosed() }

// closed reports whether the channel is gone.
func (cc *consumeChannel) closed() bool { return cc.ch.IsClosed() }

// closeReason returns why the channel closed, or nil if it is not known.
func (cc *consumeChannel) closeReason() *amqp.Error {
	select {
	case e := <-cc.closes:
		return e
	default:
		return nil
	}
}

// cancel stops the subscription (basic.cancel): no more deliveries.
func (cc *consumeChannel) cancel() { _ = cc.ch.Cancel(cc.tag, false) }

// abandon marks the channel's tags dead and closes it: the broker
// redelivers what it had not settled.
func (cc *consumeChannel) abandon() {
	cc.acks.kill()
	_ = cc.ch.Close() // after a consumer cancel the channel is still open
}

// finish sends every ack due, then abandons the channel: prefetched
// messages no handler started return to the queue.
func (cc *consumeChannel) finish() {
	cc.acks.flushAll()
	cc.abandon()
}
