package rabbitmq

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	amqp "github.com/rabbitmq/amqp091-go"
)

// consumeLoop opens a channel, declares, consumes, and dispatches, again
// and again across channel and connection losses, until shutdown. Every
// restart is an Observer event with its cause (ConsumerObserver).
//
// Only errors that another try cannot fix end it: a declaration the broker
// refuses with PRECONDITION_FAILED (a real conflict) or ACCESS_REFUSED, the
// client closed, recovery given up, or a missing queue (WithSkipDeclare) after
// WithMissingQueueAttempts tries. Connection and channel closures and timeouts
// during declaration are retried with backoff.
func (c *Consumer) consumeLoop() error {
	bo := c.newBackoff()
	restarts := c.newRestartBackoff()
	missing := 0
	for {
		cc, deliveries, err := c.open()
		if err != nil {
			c.status.set(ConsumerRecovering, nil)
			if c.stopping() || errors.Is(err, errStopping) {
				return c.finish(nil, c.takeDeadline())
			}
			if errors.Is(err, ErrClosed) || fatalDeclareError(err) {
				_ = c.finish(nil, time.Now())
				return err
			}
			if queueMissing(err, c.cfg.adopt) {
				missing++
				c.observeConsumer(ConsumerEvent{Queue: c.spec.Queue.Name, Kind: ConsumerQueueMissing, Err: err})
				if missing >= c.cfg.missingQueueAttempts {
					_ = c.finish(nil, time.Now())
					return fmt.Errorf("warren/rabbitmq: consumer %s: queue missing or refused after %d attempts: %w",
						c.spec.Queue.Name, missing, err)
				}
			}
			c.observeConsumer(ConsumerEvent{Queue: c.spec.Queue.Name, Kind: ConsumerRestart, Err: err})
			wait := bo.NextBackOff()
			if wait == backoff.Stop {
				_ = c.finish(nil, time.Now())
				return fmt.Errorf("warren/rabbitmq: consumer %s: giving up: %w", c.spec.Queue.Name, err)
			}
			select {
			case <-time.After(wait):
				continue
			case <-c.client.done: // the next open returns the client's error
				continue
			case <-c.stop:
				return c.finish(nil, c.takeDeadline())
			}
		}
		missing = 0
		started := time.Now()
		c.status.set(ConsumerConsuming, nil)
		if c.dispatch(cc, deliveries) {
			return c.finish(cc, c.takeDeadline())
		}
		// The channel is gone: its tags are dead. Handlers still running
		// finish; their settlements are dropped and the broker redelivers.
		c.status.set(ConsumerRecovering, nil)
		c.channelLost(cc)
		cc.abandon()
		if time.Since(started) >= healthyChannelAge {
			bo.Reset()
			restarts.Reset()
			continue
		}
		// It died soon after it started, again and again perhaps: a message
		// whose headers the client library cannot read fails the whole
		// connection each time it is delivered. Wait longer before each try
		// so that it cannot become a hot loop (docs/RELIABILITY.md).
		wait := restarts.NextBackOff()
		if wait == backoff.Stop {
			wait = c.maxBackoff
		}
		select {
		case <-time.After(wait):
		case <-c.client.done:
		case <-c.stop:
			return c.finish(nil, c.takeDeadline())
		}
	}
}

// channelLost reports why the consuming channel went away: the broker's
// consumer_timeout (a delivery unacknowledged for too long) gets its own
// event naming the routing key of the oldest unsettled delivery.
func (c *Consumer) channelLost(cc *consumeChannel) {
	reason := cc.closeReason()
	var err error = amqp.ErrClosed
	if reason != nil {
		err = reason
	}
	if isConsumerTimeout(reason) {
		c.observeConsumer(ConsumerEvent{Queue: c.spec.Queue.Name, Kind: ConsumerTimeout, Route: cc.acks.oldestKey(), Err: err})
	}
	c.observeConsumer(ConsumerEvent{Queue: c.spec.Queue.Name, Kind: ConsumerRestart, Err: err})
}

// isConsumerTimeout recognises the channel close RabbitMQ sends when a
// delivery stayed unacknowledged longer than its consumer_timeout.
func isConsumerTimeout(e *amqp.Error) bool {
	return e != nil && e.Code == amqp.PreconditionFailed &&
		strings.Contains(e.Reason, "delivery acknowledgement") && strings.Contains(e.Reason, "timed out")
}

// fatalDeclareError reports a declaration the broker refused for a reason
// another try cannot fix: PRECONDITION_FAILED (it exists with other
// arguments) or ACCESS_REFUSED.
func fatalDeclareError(err error) bool {
	var te *TopologyError
	if !errors.As(err, &te) {
		return false
	}
	var ae *amqp.Error
	return errors.As(err, &ae) && (ae.Code == amqp.PreconditionFailed || ae.Code == amqp.AccessRefused)
}

// queueMissing reports a basic.consume the broker refused because the
// queue does not exist or may not be read, or an adopted queue's passive
// declare that found none. A declare of its own queue that the broker
// answers with NOT_FOUND is not a missing queue: on a cluster it says the
// queue's home node is down, and the consumer retries until it is back.
func queueMissing(err error, adopted bool) bool {
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		return false
	}
	var te *TopologyError
	if errors.As(err, &te) {
		return adopted && te.Kind == "queue" && ae.Code == amqp.NotFound
	}
	return ae.Code == amqp.NotFound || ae.Code == amqp.AccessRefused
}

// dispatch hands deliveries to the workers until the channel closes
// (false) or a shutdown begins (true). A prefetch change resubscribes on
// the same channel: the old subscription's deliveries are dispatched until
// the library closes it, then the new one's.
func (c *Consumer) dispatch(cc *consumeChannel, deliveries <-chan amqp.Delivery) (stopping bool) {
	resubscribe := false
	// d is reused for every delivery: FromDelivery takes its address
	// through a function value, which would move a fresh Delivery to the
	// heap for each message. Nothing keeps the address: the Message gets
	// copies of d's fields.
	var d amqp.Delivery
	var ok bool
	for {
		select {
		case d, ok = <-deliveries:
			if ok {
				m := messages.Acquire()
				messages.FromDelivery(m, &d, cc.queue)
				cc.track(&d)
				if !c.workers.submit(job{m: m, tag: d.DeliveryTag, ch: cc}) {
					return true
				}
				continue
			}
			if !resubscribe || cc.closed() {
				return c.stopping()
			}
			resubscribe = false
			next, err := cc.subscribe()
			if err != nil {
				return c.stopping() // the channel is gone: start again
			}
			deliveries = next
		case <-c.prefetchChanged:
			if resubscribe {
				continue
			}
			if err := c.changePrefetch(cc); err != nil {
				return c.stopping()
			}
			resubscribe = true
		case <-c.stop:
			return true
		}
	}
}
