package warren

import (
	"context"
	"fmt"
	"reflect"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TypedOption configures Typed and TypedReply handlers.
type TypedOption interface{ applyTyped(*typedConfig) }

type typedConfig struct{ codecs *Codecs }

type typedOptionFunc func(*typedConfig)

func (f typedOptionFunc) applyTyped(c *typedConfig) { f(c) }

// WithCodecs makes a typed handler decode (and a TypedReply encode) with the
// given codecs, chosen by the message's content type.
func WithCodecs(c *Codecs) TypedOption {
	return typedOptionFunc(func(cfg *typedConfig) { cfg.codecs = c })
}

func newTypedConfig(opts []TypedOption) typedConfig {
	cfg := typedConfig{}
	for _, o := range opts {
		o.applyTyped(&cfg)
	}
	return cfg
}

// Typed adapts a function of a decoded value to a Handler. The body is
// decoded into a T by the codec for the message's content type (JSON by
// default). A body that does not decode is a *DecodeError: the message is
// dead-lettered with reason "decode", never retried or requeued.
//
// If a decoding middleware already put a T in msg.Value, Typed uses it.
// The function's context carries the message (MessageFromContext).
func Typed[T any](fn func(ctx context.Context, v T) error, opts ...TypedOption) Handler {
	cfg := newTypedConfig(opts)
	return typedHandler{payload: reflect.TypeFor[T](), HandlerFunc: func(ctx context.Context, msg *Message) error {
		v, _, err := decode[T](cfg.codecs, msg)
		if err != nil {
			return err
		}
		return fn(ContextWithMessage(ctx, msg), v)
	}}
}

// TypedReply adapts a function that answers a request (a command or a
// query). The request is decoded as in Typed; fn's result is encoded with
// the request's codec and published to the request's ReplyTo with its
// correlation id (see Reply), and the handler returns only once the broker
// confirmed it, so the request is acked after its answer. A request without
// ReplyTo is handled and its result discarded.
//
// A failure (a body that does not decode, an error from fn, a result that
// does not encode) is answered with an error reply (see ReplyError), and
// once that is confirmed the request settles as Drop: the caller has its
// answer, and a retry could run a command the caller was told had failed.
// Retry transient failures inside fn. The cases that settle otherwise
// (no ReplyTo, Requeue, a done context, a failed error reply, a panic) are
// in docs/ARCHITECTURE.md, "Request and reply".
func TypedReply[T, R any](fn func(ctx context.Context, v T) (R, error), opts ...TypedOption) Handler {
	cfg := newTypedConfig(opts)
	return typedHandler{payload: reflect.TypeFor[T](), reply: reflect.TypeFor[R](), HandlerFunc: func(ctx context.Context, msg *Message) error {
		v, codec, err := decode[T](cfg.codecs, msg)
		if err != nil {
			return failRequest(ctx, msg, err)
		}
		r, err := fn(ContextWithMessage(ctx, msg), v)
		if err != nil {
			return failRequest(ctx, msg, err)
		}
		if msg.ReplyTo == "" {
			return nil
		}
		body, err := codec.Marshal(r)
		if err != nil {
			return failRequest(ctx, msg, Permanent(fmt.Errorf("warren: encode reply: %w", err)))
		}
		return Reply(ctx, msg, amqp.Publishing{
			ContentType:  codec.ContentType(),
			DeliveryMode: amqp.Transient,
			Body:         body,
		})
	}}
}

// failRequest answers a failed request with an error reply and settles it
// as TypedReply documents.
func failRequest(ctx context.Context, msg *Message, err error) error {
	if msg.ReplyTo == "" || ctx.Err() != nil || OutcomeOf(err).Action == ActionRequeue {
		return err
	}
	if perr := ReplyError(ctx, msg, err); perr != nil {
		return fmt.Errorf("%w (the error reply failed too: %w)", err, perr)
	}
	return Drop(err)
}

func decode[T any](codecs *Codecs, msg *Message) (T, Codec, error) {
	var v T
	codec, err := codecs.For(msg.ContentType)
	if err != nil {
		return v, nil, &DecodeError{ContentType: msg.ContentType, Err: err}
	}
	if pre, ok := msg.Value.(T); ok {
		return pre, codec, nil
	}
	if err := codec.Unmarshal(msg.Body, &v); err != nil {
		return v, nil, &DecodeError{ContentType: msg.ContentType, Err: err}
	}
	return v, codec, nil
}
