package middleware

import (
	"context"

	"github.com/warren-mq/warren"
)

// Decode decodes the body of a message whose AMQP type property or routing
// key is registered in types, by its content type, and puts the value (a T,
// not a *T) in msg.Value for a plain handler to read:
//
//	middleware.RegisterKey[OrderCreated](types, "Order.Created")
//	r.Use(middleware.Decode(types)) // handlers read msg.Value.(OrderCreated)
//
// A body that does not decode, or a content type no codec reads, returns a
// *warren.DecodeError without calling the handler: the message is
// dead-lettered at once with reason "decode". A message whose type and
// routing key are both unregistered passes through untouched (msg.Value
// stays nil) and the handler decides. So does a message whose Value an
// earlier middleware already set. A warren.Typed handler mounted behind
// Decode uses the decoded value instead of decoding again.
func Decode(types *Types) warren.Middleware {
	if types == nil {
		panic("warren/middleware: Decode: nil Types")
	}
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
			if msg.Value != nil {
				return next.ServeMessage(ctx, msg)
			}
			dec := types.lookup(msg)
			if dec == nil {
				return next.ServeMessage(ctx, msg)
			}
			codec, err := types.codecs.For(msg.ContentType)
			if err != nil {
				return &warren.DecodeError{ContentType: msg.ContentType, Err: err}
			}
			v, err := dec(codec, msg.Body)
			if err != nil {
				return &warren.DecodeError{ContentType: msg.ContentType, Err: err}
			}
			msg.Value = v
			return next.ServeMessage(ctx, msg)
		})
	}
}
