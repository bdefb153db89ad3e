package goamqp

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/warren-mq/warren"
)

// HandlerFunc is goamqp's handler shape: msg is a pointer to a new value of
// the type registered for the routing key, decoded from the JSON body;
// headers are the delivery's. A non-nil response answers the request when
// the handler was mounted WithResponses (otherwise it is ignored, as goamqp
// ignores it outside RequestResponseHandler). The error steers settlement
// as any warren handler's does: a plain error is retried and then
// dead-lettered (goamqp requeued it forever), warren.Permanent dead-letters
// at once.
type HandlerFunc func(msg any, headers Headers) (response any, err error)

// Headers are a message's headers as a HandlerFunc sees them: a copy of
// the delivery's, plus HeaderRoutingKey, as goamqp hands them over.
// Changing them changes nothing in the message.
type Headers map[string]any

// Get returns the header's value, or nil.
func (h Headers) Get(key string) any { return h[key] }

// Types maps routing keys to the type their bodies decode into, as goamqp's
// WithTypeMapping does: Types{"Order.Created": OrderCreated{}}. Give values,
// not pointers; the handler receives a pointer.
type Types map[string]any

// Option configures Handler and Route.
type Option interface{ apply(*options) }

type options struct {
	service string
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithResponses makes the handler answer requests with the HandlerFunc's
// non-nil response, as goamqp's RequestResponseHandler does, for service
// (the answering service's own name): see Respond.
func WithResponses(service string) Option {
	return optionFunc(func(o *options) { o.service = service })
}

// Route mounts fn on router once per routing key of types, each route
// decoding into its key's type: goamqp's one handler for several types.
// It panics, as Router.Handle does, on a key registered twice, and on a
// type that is a pointer or nil.
//
//	goamqp.Route(r, goamqp.Types{"Order.Created": OrderCreated{}, "Order.Updated": OrderUpdated{}}, handle)
func Route(router *warren.Router, types Types, fn HandlerFunc, opts ...Option) {
	for key := range types {
		router.Handle(key, Handler(types, fn, opts...))
	}
}

// Handler adapts fn to a warren.Handler that decodes each message by its
// routing key: the key is looked up in types (an exact key, as goamqp
// registers them), the JSON body decoded into a new pointer of that type.
// A key with no type is dead-lettered with reason "no-route"; a body that
// does not decode with reason "decode". Mount it on a pattern ("Order.*")
// to serve several keys with one route.
func Handler(types Types, fn HandlerFunc, opts ...Option) warren.Handler {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	resolved := make(map[string]reflect.Type, len(types))
	for key, v := range types {
		t := reflect.TypeOf(v)
		if t == nil || t.Kind() == reflect.Pointer {
			panic(fmt.Sprintf("warren: goamqp.Types[%q]: give a value of the type, not %T", key, v))
		}
		resolved[key] = t
	}
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		t, ok := resolved[msg.RoutingKey]
		if !ok {
			return warren.DeadLetter(warren.ReasonNoRoute, fmt.Errorf("goamqp: no type for routing key %q", msg.RoutingKey))
		}
		v := reflect.New(t).Interface()
		if err := json.Unmarshal(msg.Body, v); err != nil {
			return &warren.DecodeError{ContentType: msg.ContentType, Err: err}
		}
		resp, err := fn(v, headersOf(msg))
		if err != nil || resp == nil || o.service == "" {
			return err
		}
		return Respond(ctx, o.service, msg, resp)
	})
}

func headersOf(msg *warren.Message) Headers {
	h := make(Headers, len(msg.Headers)+1)
	for k, v := range msg.Headers {
		h[k] = v
	}
	h[HeaderRoutingKey] = msg.RoutingKey
	return h
}
