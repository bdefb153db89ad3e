package warren

import "context"

// A transport hands every handler a context that carries what the handler
// may need beyond its message: the Publisher to publish replies and events
// through, and the Observer to report to. Typed handlers, which receive a
// decoded value instead of the Message, find the Message there too.

type messageKey struct{}

// ContextWithMessage returns a context that carries msg, for handlers (such
// as Typed ones) that receive a decoded value instead of the Message.
func ContextWithMessage(ctx context.Context, msg *Message) context.Context {
	return context.WithValue(ctx, messageKey{}, msg)
}

// MessageFromContext returns the message ContextWithMessage put in ctx, or
// nil. Typed and TypedReply handlers can read the delivery's metadata this
// way.
func MessageFromContext(ctx context.Context) *Message {
	m, _ := ctx.Value(messageKey{}).(*Message)
	return m
}

type publisherKey struct{}

// ContextWithPublisher returns a context that carries p. Transports put
// their publisher in every handler's context (once per worker, not per
// message), so replies and middleware can publish; warrentest puts a
// recorder there.
func ContextWithPublisher(ctx context.Context, p Publisher) context.Context {
	return context.WithValue(ctx, publisherKey{}, p)
}

// PublisherFromContext returns the Publisher in ctx, or nil.
func PublisherFromContext(ctx context.Context) Publisher {
	p, _ := ctx.Value(publisherKey{}).(Publisher)
	return p
}

type observerKey struct{}

// ContextWithObserver returns a context that carries o. The transport puts
// its observer in every handler's context so middleware (retry) can report.
func ContextWithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// ObserverFromContext returns the Observer in ctx, or a NopObserver.
func ObserverFromContext(ctx context.Context) Observer {
	if o, ok := ctx.Value(observerKey{}).(Observer); ok {
		return o
	}
	return NopObserver{}
}
