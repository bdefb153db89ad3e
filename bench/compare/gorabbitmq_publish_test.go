package compare

import (
	"context"
	"testing"

	rabbitmq "github.com/wagslane/go-rabbitmq"

	"github.com/warren-mq/warren/bench/benchkit"
)

// gorabbitmqPublisher is go-rabbitmq's Publisher in confirm mode, one per
// scenario channel on one connection, publishing with its deferred
// confirms through the same windows as the raw baseline (at most
// benchkit.DefaultWindow unconfirmed messages per channel).
var gorabbitmqPublisher = benchkit.Publisher{
	Lib: "gorabbitmq",
	Prepare: func(b *testing.B, run *benchkit.PublishRun) benchkit.PublishFunc {
		s := run.Scenario
		conn := gorabbitmqConn(b, run.URL)
		pubs := make([]*rabbitmq.Publisher, s.Channels)
		for i := range pubs {
			p, err := rabbitmq.NewPublisher(conn,
				rabbitmq.WithPublisherOptionsConfirm,
				rabbitmq.WithPublisherOptionsLogger(quiet{}),
			)
			if err != nil {
				b.Fatalf("go-rabbitmq publisher: %v", err)
			}
			b.Cleanup(p.Close)
			pubs[i] = p
		}
		perChannel := (s.Goroutines + s.Channels - 1) / s.Channels
		window := max(1, benchkit.DefaultWindow/perChannel)
		keys := []string{run.Key}
		return func(ctx context.Context, g, count int) error {
			p, w := pubs[g%len(pubs)], benchkit.NewWindow(window)
			for range count {
				if err := w.Reserve(ctx); err != nil {
					return err
				}
				confs, err := p.PublishWithDeferredConfirmWithContext(ctx, run.Body, keys,
					rabbitmq.WithPublishOptionsPersistentDelivery,
					rabbitmq.WithPublishOptionsContentType("application/octet-stream"),
				)
				if err != nil {
					return err
				}
				if err := w.Add(confs[0]); err != nil {
					return err
				}
			}
			return w.Wait(ctx)
		}
	},
}
