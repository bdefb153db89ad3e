// Package transport hands the root package's message plumbing to the
// transports (adapters/rabbitmq, adapters/events) without making it public
// API: the pool a transport takes Messages from and gives them back to, and
// the filling of a Message from an amqp091-go delivery.
//
// The root package registers its hooks with Set in an init function; a
// transport reads them once with Get, in a package-level variable, so the
// hot path calls plain function values and does not allocate. Because the
// Go runtime initializes an imported package before the package importing
// it, the hooks are set before any transport reads them.
package transport

import (
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Hooks are the functions a transport needs to move deliveries into
// messages of type M without owning M's pool.
type Hooks[M any] struct {
	// Acquire returns an empty message from the pool.
	Acquire func() M
	// Release clears m and returns it to the pool; m must not be used
	// afterwards.
	Release func(m M)
	// FromDelivery fills m from d, consumed from queue. The body and
	// headers are shared with d, not copied.
	FromDelivery func(m M, d *amqp.Delivery, queue string)
}

// key is the registry key of the hooks for M: one distinct type per M.
type key[M any] struct{}

var registry sync.Map // key[M] -> Hooks[M]

// Set registers the hooks for messages of type M. The package that defines
// M calls it once, in init.
func Set[M any](h Hooks[M]) {
	if h.Acquire == nil || h.Release == nil || h.FromDelivery == nil {
		panic("warren/transport: Set: every hook must be set")
	}
	registry.Store(key[M]{}, h)
}

// Get returns the hooks registered for M. It panics when none are: that is
// a bug in warren, not a state a program can be in.
func Get[M any]() Hooks[M] {
	h, ok := registry.Load(key[M]{})
	if !ok {
		panic("warren/transport: Get: no hooks registered for this message type")
	}
	return h.(Hooks[M])
}
