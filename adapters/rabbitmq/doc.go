// Package rabbitmq is warren's transport over github.com/rabbitmq/amqp091-go:
// connections that recover by themselves, topology declaration, the pooled
// consumer that serves a warren.Router and settles every delivery, and the
// confirming publisher.
//
// A service dials once, builds its router, and runs a consumer:
//
//	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/", rabbitmq.WithName("shipping"))
//	...
//	defer client.Close()
//	c, err := client.NewConsumer(ctx, router, rabbitmq.EventStream("shipping"), rabbitmq.WithWorkers(8))
//	...
//	err = c.Run(ctx) // returns after a graceful shutdown when ctx is cancelled
//
// Services that answer commands and queries consume Requests(service) with
// warren.TypedReply handlers; callers use a Requester (Client.NewRequester,
// Call) over direct reply-to.
//
// The client holds two connections, one for consuming and one for
// publishing, so that a publisher blocked by broker flow control never
// stalls consumers.
//
// Every option of the package is named With...: those of Dial (Option),
// NewConsumer (ConsumerOption), NewPublisher and EventPublisher
// (PublisherOption) and NewRequester (RequesterOption). Names without With
// are values: Specs (EventStream, Stream, Requests) and typed routes
// (Route).
package rabbitmq
