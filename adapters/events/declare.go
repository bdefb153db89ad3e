package events

import (
	"context"
	"errors"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// streamSettle is how long to wait after declaring a stream queue that
// already existed before using it. RabbitMQ (3.10 at least) answers a
// declaration of a stream queue that another channel is still creating
// with declare-ok before the stream has a leader; a publish or consume in
// that window fails with a connection-level error (resource_error "Stream
// not found", or internal_error) that takes every channel of the
// connection down. The creator's own declare-ok comes after the leader is
// up, so only a declarer that found the queue there waits.
const streamSettle = 100 * time.Millisecond

// declarer declares each key's topology once at a time: concurrent
// callers for the same key wait for the one declaration in flight instead
// of racing it (see streamSettle), and later callers find it done.
type declarer struct {
	mu       sync.Mutex
	done     map[string]bool
	inflight map[string]chan struct{}
}

func newDeclarer() *declarer {
	return &declarer{done: map[string]bool{}, inflight: map[string]chan struct{}{}}
}

// ensure runs declare for key unless it has succeeded before; again makes
// it run even then (the queue may have been deleted).
func (d *declarer) ensure(ctx context.Context, key string, again bool, declare func() error) error {
	d.mu.Lock()
	for {
		if d.done[key] && !again {
			d.mu.Unlock()
			return nil
		}
		wait, busy := d.inflight[key]
		if !busy {
			break
		}
		d.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		d.mu.Lock()
		again = false // a declaration has just completed
	}
	ch := make(chan struct{})
	d.inflight[key] = ch
	d.mu.Unlock()
	err := declare()
	d.mu.Lock()
	delete(d.inflight, key)
	d.done[key] = err == nil
	close(ch)
	d.mu.Unlock()
	return err
}

// declareStream declares t, which holds the stream queue queue, and
// returns once the stream can be used.
func declareStream(ctx context.Context, client *rabbitmq.Client, queue string, t warren.Topology) error {
	existed, err := queueExists(ctx, client, queue)
	if err != nil {
		return err
	}
	if err := client.Declare(ctx, t); err != nil {
		return err
	}
	if existed {
		timer := time.NewTimer(streamSettle)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// queueExists asks the broker with a passive declaration on a channel of
// its own (a missing queue closes that channel).
func queueExists(ctx context.Context, client *rabbitmq.Client, queue string) (bool, error) {
	ch, err := client.Channel(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = ch.Close() }()
	if _, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
