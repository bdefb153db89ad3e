package middleware

import (
	"fmt"

	"github.com/warren-mq/warren"
)

// Types maps routing keys and AMQP type names to the Go types their bodies
// decode into, for the Decode middleware:
//
//	types := middleware.NewTypes(nil)
//	middleware.RegisterKey[OrderCreated](types, "Order.Created")
//
// Register every type before serving: registration is not safe to run
// concurrently with Decode. Lookups are.
type Types struct {
	codecs *warren.Codecs
	byKey  map[string]decodeFunc
	byType map[string]decodeFunc
}

type decodeFunc func(c warren.Codec, body []byte) (any, error)

// NewTypes returns an empty registry whose bodies decode with codecs,
// chosen by content type; nil means JSON only (see warren.Codecs).
func NewTypes(codecs *warren.Codecs) *Types {
	return &Types{codecs: codecs, byKey: map[string]decodeFunc{}, byType: map[string]decodeFunc{}}
}

// RegisterKey makes Decode decode the body of a message published with
// routingKey (exactly that key, not a pattern) into a T. It panics if the
// key is already registered.
func RegisterKey[T any](t *Types, routingKey string) {
	register[T](t.byKey, "routing key", routingKey)
}

// RegisterType makes Decode decode the body of a message whose AMQP type
// property is typeName into a T. A registered type property wins over a
// registered routing key. It panics if the name is already registered.
func RegisterType[T any](t *Types, typeName string) {
	register[T](t.byType, "type", typeName)
}

func register[T any](m map[string]decodeFunc, what, name string) {
	if _, dup := m[name]; dup {
		panic(fmt.Sprintf("warren/middleware: Decode: %s %q registered twice", what, name))
	}
	m[name] = func(c warren.Codec, body []byte) (any, error) {
		var v T
		err := c.Unmarshal(body, &v)
		return v, err
	}
}

// lookup returns the decoder for msg: by its type property, else by its
// routing key; nil when neither is registered.
func (t *Types) lookup(msg *warren.Message) decodeFunc {
	if msg.Type != "" {
		if f, ok := t.byType[msg.Type]; ok {
			return f
		}
	}
	return t.byKey[msg.RoutingKey]
}
