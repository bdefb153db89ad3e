package compare

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/warren-mq/warren/bench/benchkit"
)

// watermillConsumer is watermill's Router over the watermill-amqp
// subscriber, configured as its durable-queue preset (the queues the
// harness declared, the default exchange) with the scenario's prefetch.
//
// A watermill-amqp subscription hands a message to the router and waits
// for its ack before taking the next one, so one subscription runs one
// handler at a time. For N workers the router gets N handlers on the same
// queue: N subscriptions, each its own AMQP channel and consumer, each with
// prefetch/N (at least 1), so no more messages are outstanding than the
// scenario's prefetch, as in the other libraries.
var watermillConsumer = benchkit.Consumer{
	Lib: "watermill",
	Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
		s := run.Scenario
		logger := watermill.NopLogger{}
		config := wamqp.NewDurableQueueConfig(run.URL)
		config.Consume.Qos.PrefetchCount = max(1, s.Prefetch/s.Workers)
		sub, err := wamqp.NewSubscriber(config, logger)
		if err != nil {
			b.Fatalf("watermill subscriber: %v", err)
		}
		b.Cleanup(func() { _ = sub.Close() })
		router, err := message.NewRouter(message.RouterConfig{}, logger)
		if err != nil {
			b.Fatalf("watermill router: %v", err)
		}
		for _, q := range run.Queues {
			for w := range s.Workers {
				router.AddConsumerHandler(q+"/"+strconv.Itoa(w), q, sub, func(msg *message.Message) error {
					run.Handle(msg.Payload)
					return nil
				})
			}
		}
		return func(ctx context.Context) error {
			// Run returns once ctx is cancelled and every handler has
			// stopped; closing the subscriber then closes its channels
			// and connection and waits for its goroutines.
			err := router.Run(ctx)
			return errors.Join(err, sub.Close())
		}
	},
}
