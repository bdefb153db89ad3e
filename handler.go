package warren

import "context"

// Handler handles one message. It returns nil when the message is done with,
// or an error that steers settlement (see Outcome): a handler never acks or
// nacks, the framework settles for it.
//
// A handler must not keep msg, or slices it holds, after it returns: the
// transport reuses the Message for the next delivery. Use Message.Clone to
// keep a copy.
type Handler interface {
	ServeMessage(ctx context.Context, msg *Message) error
}

// HandlerFunc adapts an ordinary function to a Handler.
type HandlerFunc func(ctx context.Context, msg *Message) error

// ServeMessage calls f(ctx, msg).
func (f HandlerFunc) ServeMessage(ctx context.Context, msg *Message) error { return f(ctx, msg) }

// Middleware wraps a Handler with behaviour that runs before and after it.
type Middleware func(next Handler) Handler

// Chain composes middlewares into one: Chain(a, b)(h) is a(b(h)), so a runs
// first and sees the result of everything inside it.
func Chain(mws ...Middleware) Middleware {
	mws = append([]Middleware(nil), mws...)
	return func(h Handler) Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
}
