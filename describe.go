package warren

import (
	"encoding/json"
	"io"
	"reflect"
	"slices"
)

// Description is what a service consumes, publishes and declares: its
// routes (with the payload types of Typed and TypedReply routes), the
// messages it sends, and its topology, as JSON for tools. It is the hook
// behind `warren routes`, `warren topology` and `warren asyncapi`: the
// command line cannot look inside a running service, so a service prints
// its description (behind a flag of its own, say -describe) and the
// command renders it:
//
//	if *describe {
//		warren.WriteDescription(os.Stdout, "shipping-service", router, consumer.Topology(),
//			warren.WithSend[ParcelShipped](warren.EventExchange, "Parcel.Shipped"))
//		return
//	}
//
//	$ shipping-service -describe | warren topology --file -
type Description struct {
	Service string   `json:"service,omitempty"`
	Routes  []string `json:"routes"`
	// Payloads are the message types of the routes mounted with Typed
	// (Payload) and TypedReply (Payload and Reply), in registration order.
	Payloads []RoutePayload `json:"payloads,omitempty"`
	// Sends are the messages the service publishes, as WithSend and
	// WithRequest name them.
	Sends    []Send   `json:"sends,omitempty"`
	Topology Topology `json:"topology"`
}

// RoutePayload is the payload type of one typed route.
type RoutePayload struct {
	Pattern string `json:"pattern"`
	// Payload is the type the route decodes.
	Payload *Schema `json:"payload,omitempty"`
	// Reply is the type a TypedReply route answers with.
	Reply *Schema `json:"reply,omitempty"`
}

// Send is a message a service publishes to Exchange with routing key Key.
// A request (a command or query, see WithRequest) has the Reply it
// expects.
type Send struct {
	Exchange string  `json:"exchange"`
	Key      string  `json:"key"`
	Payload  *Schema `json:"payload,omitempty"`
	Reply    *Schema `json:"reply,omitempty"`
}

// Schema is a Go payload type as tools see it: its name and the JSON
// Schema of its JSON encoding (see SchemaOf).
type Schema struct {
	// Name is the Go type's name ("OrderCreated"), or its literal for an
	// unnamed type ("[]string").
	Name string `json:"name"`
	// JSON is the JSON Schema (draft 7) of the type's encoding.
	JSON json.RawMessage `json:"schema"`
}

// DescribeOption adds what a router and a topology cannot tell to a
// Description: the messages the service sends.
type DescribeOption interface{ applyDescribe(*Description) }

type describeOptionFunc func(*Description)

func (f describeOptionFunc) applyDescribe(d *Description) { f(d) }

// WithSend records that the service publishes T to exchange with key, as
// a publisher route (rabbitmq.KeyFor[T]) does.
func WithSend[T any](exchange, key string) DescribeOption {
	return describeOptionFunc(func(d *Description) {
		d.Sends = append(d.Sends, Send{Exchange: exchange, Key: key, Payload: SchemaOf(reflect.TypeFor[T]())})
	})
}

// WithRequest records that the service sends a request T to exchange with
// key and expects a reply R, as rabbitmq.Call[T, R] does
// (RequestExchange(service) is the exchange of the request convention).
func WithRequest[T, R any](exchange, key string) DescribeOption {
	return describeOptionFunc(func(d *Description) {
		d.Sends = append(d.Sends, Send{Exchange: exchange, Key: key,
			Payload: SchemaOf(reflect.TypeFor[T]()), Reply: SchemaOf(reflect.TypeFor[R]())})
	})
}

// Describe returns the description of a service with router's routes and
// topology t, and what opts add. router may be nil for a service that only
// publishes.
func Describe(service string, router *Router, t Topology, opts ...DescribeOption) Description {
	d := Description{Service: service, Routes: []string{}, Topology: t}
	if router != nil {
		d.Routes = router.Routes()
		for _, p := range d.Routes {
			if th, ok := router.mux.typed[p]; ok {
				rp := RoutePayload{Pattern: p, Payload: SchemaOf(th.payload)}
				if th.reply != nil {
					rp.Reply = SchemaOf(th.reply)
				}
				d.Payloads = append(d.Payloads, rp)
			}
		}
	}
	for _, o := range opts {
		o.applyDescribe(&d)
	}
	d.Sends = slices.Clip(d.Sends)
	return d
}

// WriteDescription writes Describe(service, router, t, opts...) to w as
// indented JSON.
func WriteDescription(w io.Writer, service string, router *Router, t Topology, opts ...DescribeOption) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Describe(service, router, t, opts...))
}

// typedHandler is the Handler of Typed and TypedReply: it keeps the
// payload types for Describe.
type typedHandler struct {
	HandlerFunc
	payload, reply reflect.Type
}

// recordTypes keeps the payload types of h, mounted on pattern, if it is
// a typed handler.
func (m *mux) recordTypes(pattern string, h Handler) {
	th, ok := h.(typedHandler)
	if !ok {
		return
	}
	if m.typed == nil {
		m.typed = make(map[string]typedHandler)
	}
	m.typed[pattern] = th
}
