package warren

import (
	"context"
	"errors"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Publishing is a message to publish and where to: the exchange, the
// routing key and whether the broker must route it (mandatory).
type Publishing struct {
	Exchange   string
	RoutingKey string
	// Mandatory asks the broker to return the message if no queue is bound
	// to take it; the publisher then reports ErrUnroutable.
	Mandatory bool
	amqp.Publishing
}

// Publisher publishes messages. Publish returns only once the broker has
// confirmed the message, or with an error: never a silent success.
type Publisher interface {
	Publish(ctx context.Context, p *Publishing) error
}

// ErrUnroutable is returned for a mandatory message the broker could not
// route to any queue.
var ErrUnroutable = errors.New("warren: message unroutable")

// ErrNoPublisher is returned when a handler publishes (a reply, say) through
// a context that carries no Publisher.
var ErrNoPublisher = errors.New("warren: no publisher in context")

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

// Publish publishes p through the Publisher in ctx.
func Publish(ctx context.Context, p *Publishing) error {
	pub := PublisherFromContext(ctx)
	if pub == nil {
		return ErrNoPublisher
	}
	return pub.Publish(ctx, p)
}

// Reply publishes a reply to msg: to its ReplyTo queue through the default
// exchange, with msg's correlation id (its message id when it has none).
// A request without ReplyTo asked for no answer: Reply does nothing and
// returns nil.
func Reply(ctx context.Context, msg *Message, reply amqp.Publishing) error {
	if msg.ReplyTo == "" {
		return nil
	}
	reply.CorrelationId = msg.CorrelationID
	if reply.CorrelationId == "" {
		reply.CorrelationId = msg.MessageID
	}
	return Publish(ctx, &Publishing{RoutingKey: msg.ReplyTo, Publishing: reply})
}

// ReplyError publishes an error reply to msg, so that its caller learns of
// the failure at once instead of waiting out its deadline: an empty,
// transient message to msg's ReplyTo with its correlation id (as Reply),
// carrying err's message in the x-warren-error header (cut to
// MaxHeaderValue) and its code (ErrorCodeOf) in x-warren-error-code.
// Like Reply, it does nothing for a request without ReplyTo.
func ReplyError(ctx context.Context, msg *Message, err error) error {
	text, code := "unknown error", CodeError
	if err != nil {
		text, code = err.Error(), ErrorCodeOf(err)
	}
	return Reply(ctx, msg, amqp.Publishing{
		Headers: amqp.Table{
			HeaderError:     BoundedString(text, MaxHeaderValue),
			HeaderErrorCode: BoundedString(code, MaxHeaderValue),
		},
		DeliveryMode: amqp.Transient,
	})
}

// PublisherFunc adapts a function to a Publisher.
type PublisherFunc func(ctx context.Context, p *Publishing) error

// Publish calls f(ctx, p).
func (f PublisherFunc) Publish(ctx context.Context, p *Publishing) error { return f(ctx, p) }
