// Package asyncapi writes the AsyncAPI 3.0 document of a warren service
// from its description (warren.Describe): the contract other teams and
// tools (generators, catalogs, linters) read.
//
// A document has one channel per exchange and routing key: the bindings
// of the service's topology for the routes it consumes, and the exchange
// and key of each message it sends (warren.WithSend, warren.WithRequest).
// Operations are "receive" for routes and "send" for sends; a TypedReply
// route's receive and a request's send carry a reply (to the reply_to
// the request names, with its correlation_id). Messages carry the JSON
// Schema of their Go payload types (warren.SchemaOf). AMQP bindings give
// each channel's exchange (name, type, durable, auto-delete, vhost); the
// exchange's arguments are in x-exchange-arguments, and the queue a route
// is consumed from (name, type, durable, exclusive, auto-delete,
// arguments) in x-queue, since the AMQP channel binding has no place for
// a queue next to an exchange.
//
//	doc, err := asyncapi.Document(warren.Describe("shipping", router, topology))
//	json.NewEncoder(os.Stdout).Encode(doc)
//
// or from a shell, `warren asyncapi --file description.json`.
package asyncapi
