package warren

import (
	"context"
	"errors"
	"fmt"

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

// ErrKeyTooLong is returned by Publish for a routing key longer than
// MaxKeyLength. AMQP cannot carry such a key: amqp091-go fails to write the
// frame and closes the whole connection, so Publish refuses it first.
var ErrKeyTooLong = errors.New("warren: routing key longer than 255 bytes")

// Publish publishes p through the Publisher in ctx. A routing key longer
// than MaxKeyLength is refused with ErrKeyTooLong before it reaches the
// publisher.
func Publish(ctx context.Context, p *Publishing) error {
	if len(p.RoutingKey) > MaxKeyLength {
		return fmt.Errorf("%w: %d bytes", ErrKeyTooLong, len(p.RoutingKey))
	}
	pub := PublisherFromContext(ctx)
	if pub == nil {
		return ErrNoPublisher
	}
	return pub.Publish(ctx, p)
}

// PublisherFunc adapts a function to a Publisher.
type PublisherFunc func(ctx context.Context, p *Publishing) error

// Publish calls f(ctx, p).
func (f PublisherFunc) Publish(ctx context.Context, p *Publishing) error { return f(ctx, p) }
