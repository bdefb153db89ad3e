package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/bench/benchkit"
)

func init() {
	consumers = append(consumers, warrenConsumer, warrenWindowConsumer)
	targetConsumers = append(targetConsumers, warrenConsumer, warrenDefaultsConsumer)
	publishers = append(publishers, warrenPublisher, warrenSyncPublisher)
	targetPublishers = append(targetPublishers, warrenPublisher)
}

// warrenConsumer is warren's consumer with the scenario's workers and
// prefetch: a router with one route, a rabbitmq.Consumer per queue.
var warrenConsumer = benchkit.Consumer{
	Lib: "warren",
	Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
		return prepareWarren(b, run, rabbitmq.WithWorkers(run.Scenario.Workers), rabbitmq.WithPrefetch(run.Scenario.Prefetch))
	},
}

// warrenDefaultsConsumer is warren's consumer with its default workers and
// prefetch, whatever the scenario says: what a user gets without tuning.
var warrenDefaultsConsumer = benchkit.Consumer{
	Lib: "warren-defaults",
	Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
		return prepareWarren(b, run)
	},
}

// warrenWindowConsumer is warren with the scenario's workers and the
// prefetch warren picks for them (WithPrefetch not given:
// DefaultPrefetchPerWorker per worker above 32 workers). It runs only where
// that differs from the scenario's prefetch of DefaultPrefetch: the sweep's
// 64 workers, whose name still says prefetch=128.
var warrenWindowConsumer = benchkit.Consumer{
	Lib: "warren-window",
	Supports: func(s benchkit.ConsumeScenario) bool {
		return s.Prefetch == rabbitmq.DefaultPrefetch && s.Workers*rabbitmq.DefaultPrefetchPerWorker > rabbitmq.DefaultPrefetch
	},
	Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
		return prepareWarren(b, run, rabbitmq.WithWorkers(run.Scenario.Workers))
	},
}

func prepareWarren(b *testing.B, run *benchkit.ConsumeRun, opts ...rabbitmq.ConsumerOption) benchkit.ConsumeFunc {
	return prepareWarrenWith(b, run, nil, nil, opts...)
}

// prepareWarrenWith is prepareWarren with router middleware and client
// options.
func prepareWarrenWith(b *testing.B, run *benchkit.ConsumeRun, mws []warren.Middleware, clientOpts []rabbitmq.Option,
	opts ...rabbitmq.ConsumerOption) benchkit.ConsumeFunc {
	return runWarren(newWarrenConsumers(b, run, mws, clientOpts, opts...))
}

// newWarrenConsumers dials a client and makes a consumer per queue of run,
// serving a router with one route (and mws) that calls run.Handle.
func newWarrenConsumers(b *testing.B, run *benchkit.ConsumeRun, mws []warren.Middleware, clientOpts []rabbitmq.Option,
	opts ...rabbitmq.ConsumerOption) []*rabbitmq.Consumer {
	client := dialWarren(b, "warren-consume", clientOpts...)
	r := warren.NewRouter()
	r.Use(mws...)
	r.HandleFunc("#", func(_ context.Context, m *warren.Message) error {
		run.Handle(m.Body)
		return nil
	})
	var cons []*rabbitmq.Consumer
	for _, q := range run.Queues {
		// The harness declared the queues: consume them as they are.
		c, err := client.NewConsumer(context.Background(), r, rabbitmq.Spec{Queue: warren.Queue{Name: q, Durable: true}},
			append([]rabbitmq.ConsumerOption{rabbitmq.WithSkipDeclare()}, opts...)...)
		if err != nil {
			b.Fatalf("warren consumer: %v", err)
		}
		cons = append(cons, c)
	}
	return cons
}

// runWarren is the timed function of a warren library: it runs every
// consumer until ctx ends and returns once all have stopped.
func runWarren(cons []*rabbitmq.Consumer) benchkit.ConsumeFunc {
	return func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make([]error, len(cons))
		for i, c := range cons {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.Run(ctx)
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
}

func dialWarren(b *testing.B, name string, opts ...rabbitmq.Option) *rabbitmq.Client {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, benchkit.Require(b), append([]rabbitmq.Option{rabbitmq.WithName("warren-bench." + name)}, opts...)...)
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	b.Cleanup(func() { _ = client.Close() })
	return client
}

// warrenPublisher publishes with warren's PublishDeferred through a window
// of outstanding confirms per goroutine, as the raw baseline does: the
// pipelined path for bulk publishing.
var warrenPublisher = benchkit.Publisher{
	Lib: "warren",
	Prepare: func(b *testing.B, run *benchkit.PublishRun) benchkit.PublishFunc {
		s := run.Scenario
		pub := dialWarren(b, "warren-publish", rabbitmq.WithPublishChannels(s.Channels)).Publisher()
		perChannel := (s.Goroutines + s.Channels - 1) / s.Channels
		window := max(1, benchkit.DefaultWindow/perChannel)
		return func(ctx context.Context, g, count int) error {
			pending := make([]*rabbitmq.Confirmation, 0, window)
			for range count {
				if len(pending) == window {
					if err := pending[0].Wait(ctx); err != nil {
						return err
					}
					pending = pending[1:]
				}
				conf, err := pub.PublishDeferred(ctx, &warren.Publishing{Exchange: run.Exchange, RoutingKey: run.Key,
					Publishing: benchkit.Publishing(run.Body)})
				if err != nil {
					return err
				}
				pending = append(pending, conf)
			}
			for _, c := range pending {
				if err := c.Wait(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	},
}

// warrenSyncPublisher calls Publish, which returns once the broker
// confirmed: one message in flight per goroutine, the everyday path.
var warrenSyncPublisher = benchkit.Publisher{
	Lib: "warren-sync",
	Prepare: func(b *testing.B, run *benchkit.PublishRun) benchkit.PublishFunc {
		pub := dialWarren(b, "warren-publish-sync", rabbitmq.WithPublishChannels(run.Scenario.Channels)).Publisher()
		return func(ctx context.Context, g, count int) error {
			for range count {
				if err := pub.Publish(ctx, &warren.Publishing{Exchange: run.Exchange, RoutingKey: run.Key,
					Publishing: benchkit.Publishing(run.Body)}); err != nil {
					return err
				}
			}
			return nil
		}
	},
}
