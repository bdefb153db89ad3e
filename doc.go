// Package warren is a framework for RabbitMQ consumers built like an HTTP
// router: handlers are mounted on AMQP topic patterns ("Order.Created",
// "Order.*", "audit.#"), wrapped in middleware, and served by a transport
// that settles every message for them.
//
// A handler never acks or nacks. It returns nil, and the message is acked,
// or an error, and the error says what happens next (see OutcomeOf): a plain
// error is retried and then dead-lettered, Permanent dead-letters at once,
// Requeue puts the message back (a bounded number of times), Drop acks it
// and counts it. A body that does not decode is dead-lettered with reason
// "decode", never retried.
//
//	r := warren.NewRouter()
//	r.Use(middleware.Recover)
//	r.Handle("Order.Created", warren.Typed(func(ctx context.Context, e OrderCreated) error {
//		return ship(ctx, e)
//	}))
//	r.HandleFunc("Order.*", func(ctx context.Context, m *warren.Message) error {
//		return nil
//	})
//
// The most specific matching route wins (Pattern.Compare); the patterns a
// router holds are the bindings its transport declares (Router.Routes), so
// what the broker delivers and what the router dispatches agree.
//
// This package has no I/O of its own: it holds the router, the Message a
// handler sees, outcomes, codecs, replies (Reply, TypedReply), the header
// names warren writes and the topology a consumer needs, as data, with the
// naming conventions of the queues and exchanges (DeadLetterQueue,
// WaitQueue, ServiceQueue). The rest lives in subpackages:
//
//   - [github.com/warren-mq/warren/adapters/rabbitmq]: the transport over
//     amqp091-go (recovering connections, the pooled consumer, the confirming
//     publisher, request and reply);
//   - [github.com/warren-mq/warren/adapters/events]: an events API (streams
//     with groups and offsets, a store) on RabbitMQ streams and quorum queues;
//   - [github.com/warren-mq/warren/middleware] and its logging, metrics and
//     tracing subpackages;
//   - [github.com/warren-mq/warren/retry]: retry in place with backoff, and
//     the delayed-retry policy;
//   - [github.com/warren-mq/warren/deadletter]: dead-letter headers, and
//     inspecting and replaying a dead-letter queue;
//   - [github.com/warren-mq/warren/warrentest]: serving a message through a
//     handler in a test, without a broker.
package warren
