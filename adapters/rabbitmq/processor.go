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
	settleTimeout time.Duration
	redeclare     func(context.Context) error // declares the topology again; nil with SkipDeclare
	event         func(ConsumerEvent)
	frameSize     func() int // frame_max negotiated on the publish connection
}

// process serves j and settles it. ctx is every handler's context; it is
// cancelled only when a shutdown aborts the handlers.
func (p *processor) process(ctx context.Context, j job) {
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
