package logging

import (
	"context"
	"sync"
	"time"

	"github.com/warren-mq/warren"
)

// loggerKey is the context key of a front-end's logger: one per logger
// type L, so a zap and a slog Middleware can be mounted together.
type loggerKey[L any] struct{}

// frontEnd is what a logger package brings: its sink and how to add
// fields to one of its loggers.
type frontEnd[L any] struct {
	base L
	sink sink
	with func(L, []field) L
}

// msgLogger builds the per-message logger on first use only: a handler that
// never logs costs one small allocation. It copies what it logs from the
// message, so it stays valid after the message is recycled.
type msgLogger[L any] struct {
	fe   *frontEnd[L]
	f    msgFields
	once sync.Once
	l    L
}

func (m *msgLogger[L]) logger() L {
	m.once.Do(func() { m.l = m.fe.with(m.fe.base, m.f.append(nil)) })
	return m.l
}

// middleware is Middleware for any front-end.
func middleware[L any](fe *frontEnd[L], opts []Option) warren.Middleware {
	cfg := &config{}
	for _, o := range opts {
		o.apply(cfg)
	}
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
			ml := &msgLogger[L]{fe: fe, f: fieldsOf(ctx, msg)}
			start := time.Now()
			err := next.ServeMessage(context.WithValue(ctx, loggerKey[L]{}, ml), msg)
			messageLine(ctx, fe.sink, cfg, msg, err, start)
			return err
		})
	}
}

// fromContext returns the logger middleware or newContext put in ctx, or
// ok false.
func fromContext[L any](ctx context.Context) (l L, ok bool) {
	switch v := ctx.Value(loggerKey[L]{}).(type) {
	case *msgLogger[L]:
		return v.logger(), true
	case L:
		return v, true
	}
	return l, false
}

func newContext[L any](ctx context.Context, l L) context.Context {
	return context.WithValue(ctx, loggerKey[L]{}, l)
}
