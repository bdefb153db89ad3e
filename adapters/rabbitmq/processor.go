package rabbitmq

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/retry"
)

// processor takes one delivery from a worker, runs the router and settles
// the result on the delivery's channel (see settle.go). It holds all it
// needs for that and never calls back into the Consumer.
type processor struct {
	router        *warren.Router
	observer      warren.Observer
	copies        *confirmChannels // where dead-letter and retry copies are published
	policy        retry.Policy
	requeueLimit  int
	requeues      *requeueCounter
	copied        *copyMemo // deliveries whose settlement copy was confirmed
	settleTimeout time.Duration
	dlxKnown      bool                        // the work queue dead-letters what is nacked without requeue (hasDeadLetterRoute)
	redeclare     func(context.Context) error // declares the topology again; nil with SkipDeclare
	event         func(ConsumerEvent)
	frameSize     func() int // frame_max negotiated on the publish connection
}

// process serves j and settles it. ctx is every handler's context; it is
// cancelled only when a shutdown aborts the handlers.
func (p *processor) process(ctx context.Context, j job) {
	if j.m.Redelivered && p.settledBefore(ctx, j) {
		return
	}
	start := time.Now()
	err := p.serve(ctx, j.m)
	p.settle(ctx, j, err, time.Since(start))
}

// serve runs the router, turning a panic that escaped every middleware
// into a *warren.PanicError: the worker, and the process, survive.
func (p *processor) serve(ctx context.Context, m *warren.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &warren.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return p.router.ServeMessage(ctx, m)
}

// settledBefore settles a redelivery whose settlement was decided before
// the channel was lost (see copyMemo): its copy was confirmed, so it is
// acked; or its copy's confirm was lost, so the same copy is sent again.
// It reports whether it settled j.
func (p *processor) settledBefore(ctx context.Context, j job) bool {
	if p.copied.settled(j.m) {
		j.ch.ack(j.tag)
		p.event(ConsumerEvent{Queue: j.m.Queue, Kind: ConsumerCopyExists, Route: j.m.Route})
		return true
	}
	pub, ok := p.copied.pendingCopy(j.m)
	if !ok {
		return false
	}
	ev := warren.SettleEvent{Queue: j.m.Queue, Route: j.m.Route, Attempt: j.m.Attempt, Action: warren.ActionRetry}
	if pub.RoutingKey == warren.DeadLetterQueue(j.m.Queue) {
		ev.Action, ev.Reason = warren.ActionDeadLetter, deadLetterReason(pub)
	}
	p.sendCopy(ctx, j, pub, &ev)
	p.observer.ObserveSettle(ev)
	return true
}

func deadLetterReason(pub *warren.Publishing) string {
	r, _ := pub.Headers[warren.HeaderReason].(string)
	return r
}
