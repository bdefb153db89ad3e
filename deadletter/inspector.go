package deadletter

import (
	"context"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrQueueNotFound is returned for a dead-letter queue that does not exist.
var ErrQueueNotFound = errors.New("warren/deadletter: queue not found")

// Filter selects the messages of a dead-letter queue that an operation
// works on.
type Filter struct {
	// Limit is the most messages to select; 0 selects all of them.
	Limit int
	// Reason selects messages with this Entry.Reason; "" selects any.
	Reason string
	// MessageID selects messages with this message id; "" selects any.
	MessageID string
}

func (f Filter) match(e *Entry) bool {
	return (f.Reason == "" || e.Reason == f.Reason) && (f.MessageID == "" || e.MessageID == f.MessageID)
}

func (f Filter) full(n int) bool { return f.Limit > 0 && n >= f.Limit }

// scanSlack is how many messages past the depth it saw at its start a call
// visits at most.
const scanSlack = 1000

// Inspector reads, replays and purges dead-letter queues on a connection.
//
// It reads a queue with basic.get without acknowledging, and hands back
// what it did not move (nack with requeue, then closing the channel, which
// requeues whatever a failed nack left), so inspecting loses nothing. On a
// classic queue a requeued message goes back to its original position, so
// the queue's order is unchanged (the tests check this on RabbitMQ 3.10).
// A quorum queue (3.10) puts requeued messages at its tail instead, so
// inspecting reorders it, and it counts a delivery for each: do not give a
// dead-letter queue an x-delivery-limit. Messages an Inspector has read
// carry the broker's redelivered flag from then on.
//
// A call visits the messages in the queue when it started, and at most
// 1000 more that arrive meanwhile, so a queue that keeps filling still
// ends it. While a call runs, the messages it holds are invisible to other
// consumers of the queue; two calls on the same queue at once each see
// part of it.
//
// Every call opens channels of its own: an Inspector is safe for
// concurrent use. It does not own the connection.
type Inspector struct {
	conn *amqp.Connection
}

// NewInspector returns an Inspector that works on conn.
func NewInspector(conn *amqp.Connection) *Inspector { return &Inspector{conn: conn} }

// Depth returns the number of ready messages in the queue named dlq.
func (in *Inspector) Depth(ctx context.Context, dlq string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ch, err := in.conn.Channel()
	if err != nil {
		return 0, fmt.Errorf("warren/deadletter: open channel: %w", err)
	}
	defer ch.Close()
	return depth(ch, dlq)
}

// List returns the entries of the queue named dlq that f selects, in queue
// order, and leaves every message where it was.
func (in *Inspector) List(ctx context.Context, dlq string, f Filter) ([]Entry, error) {
	var out []Entry
	err := in.scan(ctx, dlq, func(_ *amqp.Channel, d *amqp.Delivery) (bool, error) {
		e := EntryOf(d)
		if f.match(&e) {
			out = append(out, e)
		}
		return f.full(len(out)), nil
	})
	return out, err
}

// Purge deletes every ready message of the queue named dlq and returns how
// many there were.
func (in *Inspector) Purge(ctx context.Context, dlq string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ch, err := in.conn.Channel()
	if err != nil {
		return 0, fmt.Errorf("warren/deadletter: open channel: %w", err)
	}
	defer ch.Close()
	if _, err := depth(ch, dlq); err != nil {
		return 0, err
	}
	n, err := ch.QueuePurge(dlq, false)
	if err != nil {
		return 0, fmt.Errorf("warren/deadletter: purge %q: %w", dlq, err)
	}
	return n, nil
}

// scan gets, without acknowledging, up to the messages that were in dlq when
// it started and passes each to visit, which settles it on ch or leaves it,
// and says whether to stop. Whatever is left unsettled goes back to the
// queue, in place, when scan returns.
func (in *Inspector) scan(ctx context.Context, dlq string, visit func(ch *amqp.Channel, d *amqp.Delivery) (stop bool, err error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ch, err := in.conn.Channel()
	if err != nil {
		return fmt.Errorf("warren/deadletter: open channel: %w", err)
	}
	// Closing the channel requeues anything still unacknowledged, even if
	// the nack below was never sent.
	defer ch.Close()
	n, err := depth(ch, dlq)
	if err != nil {
		return err
	}
	got := false
	defer func() {
		if got {
			// Tag 0 with multiple: every message still unacknowledged on
			// ch, whichever visit settled in between.
			_ = ch.Nack(0, true, true)
		}
	}()
	// The depth bounds the scan, so that a queue that keeps filling still
	// ends it; the slack covers messages that are back in the queue but
	// not counted yet (a quorum queue applies requeues asynchronously).
	for range n + scanSlack {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, ok, err := ch.Get(dlq, false)
		if err != nil {
			return fmt.Errorf("warren/deadletter: get from %q: %w", dlq, err)
		}
		if !ok {
			return nil
		}
		got = true
		stop, err := visit(ch, &d)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// depth declares dlq passively: it fails with ErrQueueNotFound (and closes
// ch) when the queue does not exist.
func depth(ch *amqp.Channel, dlq string) (int, error) {
	q, err := ch.QueueDeclarePassive(dlq, false, false, false, false, nil)
	if err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			return 0, fmt.Errorf("%w: %q", ErrQueueNotFound, dlq)
		}
		return 0, fmt.Errorf("warren/deadletter: inspect queue %q: %w", dlq, err)
	}
	return q.Messages, nil
}
