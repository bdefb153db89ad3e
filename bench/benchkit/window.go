package benchkit

import (
	"context"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DefaultWindow is how many publisher confirms a Window keeps outstanding
// unless told otherwise: enough to keep the broker busy on loopback, small
// enough that amqp091-go's per-confirm bookkeeping (a map it scans on every
// multiple confirm) stays cheap.
const DefaultWindow = 256

// Window keeps at most a fixed number of publisher confirms outstanding:
// pipelined publishing with deferred confirms. Publishing blocks only when
// the window is full, and then only until the oldest publish is confirmed.
// One Window belongs to one goroutine; goroutines sharing a channel each
// have their own.
type Window struct {
	pending []*amqp.DeferredConfirmation // ring buffer, oldest at head
	head, n int
}

// NewWindow returns a window of size outstanding confirms.
func NewWindow(size int) *Window {
	return &Window{pending: make([]*amqp.DeferredConfirmation, max(1, size))}
}

// ErrNacked is returned when the broker refuses a publish (basic.nack).
var ErrNacked = errors.New("benchkit: publish nacked by the broker")

// Publish publishes msg on ch, which must be in confirm mode, once the
// window has room. It reports a nack of an earlier publish it waited for.
func (w *Window) Publish(ctx context.Context, ch *amqp.Channel, exchange, key string, msg amqp.Publishing) error {
	if err := w.Reserve(ctx); err != nil {
		return err
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, false, false, msg)
	if err != nil {
		return fmt.Errorf("benchkit: publish: %w", err)
	}
	return w.Add(dc)
}

// Reserve waits until the window has room for one more publish. Libraries
// that hand out amqp091-go's deferred confirmations publish between
// Reserve and Add.
func (w *Window) Reserve(ctx context.Context) error {
	if w.n < len(w.pending) {
		return nil
	}
	return w.waitOldest(ctx)
}

// Add keeps the confirmation of a publish made after Reserve.
func (w *Window) Add(dc *amqp.DeferredConfirmation) error {
	if dc == nil {
		return errors.New("benchkit: channel is not in confirm mode")
	}
	if w.n == len(w.pending) {
		return errors.New("benchkit: Add without Reserve")
	}
	w.pending[(w.head+w.n)%len(w.pending)] = dc
	w.n++
	return nil
}

// Wait returns once every outstanding publish is confirmed.
func (w *Window) Wait(ctx context.Context) error {
	for w.n > 0 {
		if err := w.waitOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *Window) waitOldest(ctx context.Context) error {
	dc := w.pending[w.head]
	w.pending[w.head] = nil
	w.head = (w.head + 1) % len(w.pending)
	w.n--
	ok, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNacked
	}
	return nil
}
