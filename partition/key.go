package partition

import amqp "github.com/rabbitmq/amqp091-go"

// Key is the partition key of messages of type T, for a layout that hashes
// a header (HashHeader): Of computes the key from the message, Header names
// the header (DefaultKeyHeader when empty). Messages with equal keys land
// in the same partition and are handled in publish order.
//
//	byCustomer := partition.KeyOf(func(o OrderPlaced) string { return o.CustomerID })
//	err := pub.Send(ctx, order, byCustomer.Set(order))
type Key[T any] struct {
	Header string
	Of     func(T) string
}

// KeyOf returns the Key that writes of(v) to DefaultKeyHeader.
func KeyOf[T any](of func(T) string) Key[T] { return Key[T]{Of: of} }

// HeaderName returns the header k writes.
func (k Key[T]) HeaderName() string {
	if k.Header == "" {
		return DefaultKeyHeader
	}
	return k.Header
}

// Hash returns the layout Hash that partitions by k.
func (k Key[T]) Hash() Hash { return HashHeader(k.HeaderName()) }

// Set returns a publishing option (for rabbitmq.Publisher.Send) that writes
// v's key to k's header.
func (k Key[T]) Set(v T) func(*amqp.Publishing) {
	key := k.Of(v)
	name := k.HeaderName()
	return func(p *amqp.Publishing) {
		if p.Headers == nil {
			p.Headers = amqp.Table{}
		}
		p.Headers[name] = key
	}
}
