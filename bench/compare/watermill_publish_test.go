package compare

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/warren-mq/warren/bench/benchkit"
)

// watermillPublisher is watermill-amqp's Publisher with ConfirmDelivery on
// and a pool of as many channels as the scenario has. It publishes to the
// default exchange with the queue's name as topic (the durable-queue
// preset), persistent, one watermill message (with a fresh UUID) each.
// Publish waits for each message's confirm before it returns and holds its
// pooled channel meanwhile: confirms are not pipelined.
var watermillPublisher = benchkit.Publisher{
	Lib: "watermill",
	Prepare: func(b *testing.B, run *benchkit.PublishRun) benchkit.PublishFunc {
		config := wamqp.NewDurableQueueConfig(run.URL)
		config.Publish.ConfirmDelivery = true
		config.Publish.ChannelPoolSize = run.Scenario.Channels
		pub, err := wamqp.NewPublisher(config, watermill.NopLogger{})
		if err != nil {
			b.Fatalf("watermill publisher: %v", err)
		}
		b.Cleanup(func() { _ = pub.Close() })
		return func(ctx context.Context, _, count int) error {
			for range count {
				msg := message.NewMessage(watermill.NewUUID(), run.Body)
				msg.SetContext(ctx)
				if err := pub.Publish(run.Key, msg); err != nil {
					return err
				}
			}
			return nil
		}
	},
}
