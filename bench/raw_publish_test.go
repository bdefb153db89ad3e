package bench

import (
	"context"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/bench/benchkit"
)

// rawPublisher is the baseline: amqp091-go channels in confirm mode, each
// goroutine publishing with deferred confirms through its own window of
// outstanding confirms (benchkit.Window), the window shared out so that a
// channel carries at most benchkit.DefaultWindow unconfirmed messages
// however many goroutines publish on it.
var rawPublisher = benchkit.Publisher{
	Lib: "raw",
	Prepare: func(b *testing.B, run *benchkit.PublishRun) benchkit.PublishFunc {
		s := run.Scenario
		conn := benchkit.Dial(b, "raw-publish")
		chans := make([]*amqp.Channel, s.Channels)
		for i := range chans {
			chans[i] = benchkit.Channel(b, conn)
			if err := chans[i].Confirm(false); err != nil {
				b.Fatalf("confirm mode: %v", err)
			}
		}
		perChannel := (s.Goroutines + s.Channels - 1) / s.Channels
		window := max(1, benchkit.DefaultWindow/perChannel)
		msg := benchkit.Publishing(run.Body)
		return func(ctx context.Context, g, count int) error {
			ch, w := chans[g%len(chans)], benchkit.NewWindow(window)
			for range count {
				if err := w.Publish(ctx, ch, run.Exchange, run.Key, msg); err != nil {
					return err
				}
			}
			return w.Wait(ctx)
		}
	},
}
