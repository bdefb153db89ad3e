// Package rabbitmq is warren's transport over github.com/rabbitmq/amqp091-go:
// connections that recover by themselves, topology declaration, the
// consumer that serves a warren.Router with a set of workers and settles
// every delivery, the confirming publisher, and request/reply.
//
// # Lifecycle
//
// A service dials once and closes the client when it stops:
//
//	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/", rabbitmq.WithName("shipping"))
//	...
//	defer client.Close()
//
// The client holds two connections, one for consuming and one for
// publishing, so that a publisher blocked by broker flow control never
// stalls consumers (WithSharedConnection makes them one). Both recover by
// themselves (WithReconnect); Close shuts down the client's consumers
// first.
//
// Dial retries the first connection with the same policy until its
// context ends (WithDialRetry(false) fails at once). On a loss, consumers
// wait and resubscribe, publishes and requests wait for recovery up to
// their own deadline (WithPublishTimeout when they have none; no publish
// waits behind another), and Client.Ready reports the outage. When
// recovery gives up (WithReconnect's maxRetries), the client is done:
// Done closes, Err matches ErrGaveUp, Consumer.Run returns it within a
// second, every publish and request fails with it, events consumers close
// their channels, and the Observer gets a ConnClosed event with it. It does
// not recover: the service exits or dials again. Probes: Client.Healthy
// (live until done) and Client.Ready (connections up, every consumer
// consuming), served over HTTP by package health:
//
//	mux.Handle("/livez", health.Handler(client))
//	mux.Handle("/readyz", health.Handler(client))
//
// # Clusters
//
// A client dials every node of a cluster: Dial's URL and those of
// WithEndpoints.
//
//	client, err := rabbitmq.Dial(ctx, "amqp://u:p@rabbit-1:5672/",
//		rabbitmq.WithEndpoints("amqp://u:p@rabbit-2:5672/", "amqp://u:p@rabbit-3:5672/"))
//
// The idiom is several whole URLs, not a comma-separated host list: each
// endpoint keeps its own credentials, virtual host, scheme (amqps with
// WithTLS, verified against its own host name) and port, Dial's signature
// stays the single-broker one, and an endpoint that does not parse is an
// error naming it (password masked). The client connects to the first
// endpoint that answers (in order, or shuffled once per client:
// WithEndpointOrder); a lost connection redials the next node at once, so
// losing one node costs one reconnect. WithReconnect's maxRetries counts
// every dial of an outage, whichever node it went to; the wait comes after
// each round of the list. A Dial that fails has each node's last cause.
// Connections are named "<name>.consume@host:port" on the broker, and
// warren.ConnectionEvent.Endpoint says which node an event is about;
// Client.ConnectedTo tells where the connections are now.
//
// Quorum queues: WithQueueType(warren.Quorum) declares the work, dead-letter
// and wait queues as quorum queues, the work queue with a delivery limit
// (DefaultDeliveryLimit, WithDeliveryLimit) and at-least-once
// dead-lettering; WithLeaderLocator places their leaders. Send with
// WithSendRetry publishes again, with the same message id, after an error
// that leaves open whether the broker has the message (ErrConfirmLost,
// ErrPublishTimeout), as when the node dies under the publish.
//
// # Consuming
//
// Client.NewConsumer declares a Spec's topology (exchange, queue, one
// binding per route, dead-letter and retry wait queues) and returns a
// Consumer; Run serves the queue until ctx is cancelled, then shuts down
// gracefully (or call Consumer.Shutdown):
//
//	c, err := client.NewConsumer(ctx, router, rabbitmq.EventStream("shipping"), rabbitmq.WithWorkers(8))
//	...
//	err = c.Run(ctx)
//
// Specs are values: EventStream(service) for the shared event exchange,
// TopicSpec(name, service) for another topic exchange, Requests(service)
// for a service's commands and queries.
//
// # Publishing
//
// Every publish waits for the broker's confirm. Three ways to get a
// Publisher, all on the client's publish channels:
//
//   - Client.Publisher returns the client's one publisher, bound to no
//     exchange: Publish to any exchange with any key. It is what handlers
//     reach through warren.Publish and Reply. It has no typed keys, so
//     Send fails.
//   - Client.NewPublisher(ctx, exchange, ...) declares exchange and returns
//     a new publisher bound to it: Send picks the routing key by the
//     value's type (WithTypeKeys, KeyFor).
//   - Client.NewEventPublisher(ctx, ...) is NewPublisher for the event
//     exchange.
//
// Names: Publisher is an accessor (no context, no error, nothing created);
// the two others start with New because each call declares and creates.
//
// # Request and reply
//
// Services that answer commands and queries consume Requests(service) with
// warren.TypedReply handlers. Callers make one Requester
// (Client.NewRequester) and use it over direct reply-to, in two ways:
//
//   - Call[Req, Resp](ctx, requester, service, route, req) encodes req as
//     JSON and decodes the reply into a Resp: the typed call, for most code.
//   - Requester.Request(ctx, service, route, amqp.Publishing) sends a
//     publishing as given and returns the reply's amqp.Delivery: the raw
//     request, for other encodings, or to read the reply's properties and
//     headers.
//
// Names: the raw form is the Requester's method and speaks amqp091-go's
// types; the typed form is a generic function (Go methods cannot take type
// parameters) built on it, named Call as in an RPC.
//
// # Options
//
// Every option of the package is named With...: those of Dial (Option),
// NewConsumer (ConsumerOption), NewPublisher and NewEventPublisher
// (PublisherOption) and NewRequester (RequesterOption). Names without With
// are values: Specs (EventStream, TopicSpec, Requests) and type keys
// (KeyFor).
package rabbitmq

// Words inside the package: "session" means only a requester's channel with
// its reply consumer (replySession); the publish channels a client shares
// are its confirmChannels; "pool" means only the root's sync.Pool of
// messages.
