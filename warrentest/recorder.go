package warrentest

import (
	"context"
	"sync"

	"github.com/warren-mq/warren"
)

// Recorder is a warren.Publisher that records every publish, and the result
// of serving one message. Serve fills it; tests read it.
type Recorder struct {
	// Err is what the handler returned.
	Err error
	// Outcome is the settlement the transport would perform for Err.
	Outcome warren.Outcome

	// PublishErr, when set, is returned by every Publish (which then
	// records nothing), to test a handler's reaction to a failed publish.
	PublishErr error

	mu        sync.Mutex
	published []warren.Publishing
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Publish records a copy of p, as if the broker had confirmed it.
func (r *Recorder) Publish(_ context.Context, p *warren.Publishing) error {
	if r.PublishErr != nil {
		return r.PublishErr
	}
	c := *p
	c.Body = append([]byte(nil), p.Body...)
	if p.Headers != nil {
		c.Headers = (&warren.Message{Headers: p.Headers}).Clone().Headers
	}
	r.mu.Lock()
	r.published = append(r.published, c)
	r.mu.Unlock()
	return nil
}

// Published returns everything published so far, in order.
func (r *Recorder) Published() []warren.Publishing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]warren.Publishing(nil), r.published...)
}

// Replies returns what was published to reply queues (through the default
// exchange), in order.
func (r *Recorder) Replies() []warren.Publishing {
	var out []warren.Publishing
	for _, p := range r.Published() {
		if p.Exchange == "" {
			out = append(out, p)
		}
	}
	return out
}

// Acked reports whether the message would be acked as handled.
func (r *Recorder) Acked() bool { return r.Outcome.Action == warren.ActionAck }

// Retried reports whether the handler failed in a way the transport retries.
func (r *Recorder) Retried() bool { return r.Outcome.Action == warren.ActionRetry }

// Requeued reports whether the message would be nacked with requeue.
func (r *Recorder) Requeued() bool { return r.Outcome.Action == warren.ActionRequeue }

// Dropped reports whether the message would be acked as dropped.
func (r *Recorder) Dropped() bool { return r.Outcome.Action == warren.ActionDrop }

// DeadLettered reports whether the message would be dead-lettered at once,
// and with which reason.
func (r *Recorder) DeadLettered() (reason string, ok bool) {
	if r.Outcome.Action != warren.ActionDeadLetter {
		return "", false
	}
	return r.Outcome.Reason, true
}

// Serve serves msg through h with a fresh Recorder as the context's
// publisher and returns the recorder. A panic in h is not recovered, as
// httptest does not recover one: mount a recover middleware to test that.
func Serve(h warren.Handler, msg *warren.Message) *Recorder {
	return ServeContext(context.Background(), h, msg)
}

// ServeContext is Serve with a context of the caller's.
func ServeContext(ctx context.Context, h warren.Handler, msg *warren.Message) *Recorder {
	r := NewRecorder()
	r.Serve(ctx, h, msg)
	return r
}

// Serve serves msg through h with r as the context's publisher, and records
// the result. Several messages can be served through one recorder; Err and
// Outcome hold the last result.
func (r *Recorder) Serve(ctx context.Context, h warren.Handler, msg *warren.Message) {
	r.Err = h.ServeMessage(warren.ContextWithPublisher(ctx, r), msg)
	r.Outcome = warren.OutcomeOf(r.Err)
}
