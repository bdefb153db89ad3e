// Package goamqp helps services move from github.com/sparetimecoders/goamqp
// to warren one piece at a time, without changing what is on the wire.
//
// Three things live here, each built on warren's public API only:
//
//   - goamqp's handler shape: one HandlerFunc for several message types,
//     mounted with Route (or Handler) and a Types map from routing key to
//     type. The body is decoded into a pointer of the registered type, so
//     the familiar type switch over pointers keeps working (see
//     ExampleRoute).
//
//   - answering goamqp callers: Respond, Responder and WithResponses answer a
//     request that came with a `service` header and no reply-to the goamqp
//     way, on the service's own headers exchange <svc>.headers.exchange.response
//     with the header service=<caller>; a request with a reply-to is answered
//     the warren way (warren.Reply).
//
//   - calling goamqp services: a Caller publishes to
//     <target>.direct.exchange.request with service=<own name> and takes
//     answers from its own response queue, bound the way goamqp binds it.
//     goamqp answers carry no correlation id, so a Caller keeps at most one
//     call in flight per route (see Caller).
//
// The names goamqp gives its exchanges and queues are here too
// (ResponseExchange, ResponseQueue); warren's own cover the rest
// (warren.EventExchange, warren.ServiceQueue, warren.RequestExchange,
// warren.RequestQueue). docs/MIGRATING.md walks through a migration.
package goamqp
