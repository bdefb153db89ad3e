package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/retry"
)

// retryDelay is how long a failed message waits before its retry.
const retryDelay = 500 * time.Millisecond

// run wires the observability stack, runs the demo and, with serve, keeps
// consuming and serving /metrics until ctx is cancelled.
func run(ctx context.Context, url, name, addr string, serve, printSpans, keep bool) error {
	logger, err := zap.NewDevelopment(zap.AddStacktrace(zapcore.DPanicLevel)) // no stack on every failed message
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()

	var spanOut io.Writer
	if printSpans {
		spanOut = os.Stdout
	}
	tp, err := newTracerProvider(spanOut)
	if err != nil {
		return err
	}
	defer func() { _ = tp.Shutdown(context.Background()) }()

	m, reg, err := newMetrics()
	if err != nil {
		return err
	}
	stopServer, bound, err := serveMetrics(addr, reg)
	switch {
	case err != nil && serve:
		return fmt.Errorf("serve /metrics: %w", err)
	case err != nil:
		logger.Warn("not serving /metrics; the metrics are printed at the end", zap.Error(err))
	default:
		defer stopServer()
		logger.Info("serving metrics", zap.String("url", "http://"+bound+"/metrics"))
	}

	settled := newSettleCounter(settlements)
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(dialCtx, url,
		rabbitmq.WithName(name),
		rabbitmq.WithObserver(warren.Observers{m, logging.NewObserver(logger), settled}),
		rabbitmq.WithPublishMiddleware(tracePublishes),
	)
	if err != nil {
		return fmt.Errorf("%w\nis RabbitMQ running? `make broker` starts one, or set AMQP_URL", err)
	}
	defer func() { _ = client.Close() }()

	seen := &sightings{}
	spec := rabbitmq.TopicSpec(name, "demo")
	cons, err := client.NewConsumer(context.Background(), newRouter(logger, m, seen), spec, rabbitmq.WithRetry(retry.Delays(retryDelay)))
	if err != nil {
		return err
	}
	if !keep {
		defer deleteTopology(client, cons.Topology(), logger)
	}
	runCtx, stopConsumer := context.WithCancel(context.Background())
	defer stopConsumer()
	runErr := make(chan error, 1)
	go func() { runErr <- cons.Run(runCtx) }()

	published, err := publishEvents(ctx, client.Publisher(), spec.Exchange.Name)
	if err == nil {
		err = waitSettled(ctx, settled)
	}
	if err == nil {
		printTraces(os.Stdout, published, seen.all())
		fmt.Printf("\nMetrics (warren_ series of /metrics, histogram buckets left out):\n%s", warrenMetrics(reg))
		if serve {
			logger.Info("serving until interrupted", zap.String("url", "http://"+bound+"/metrics"))
			<-ctx.Done()
		}
	}
	stopConsumer()
	return errors.Join(err, <-runErr)
}

// waitSettled waits until every delivery the demo makes was settled.
func waitSettled(ctx context.Context, c *settleCounter) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(runTimeout):
		return fmt.Errorf("only %d of %d deliveries settled after %v", c.count.Load(), settlements, runTimeout)
	}
}

// deleteTopology deletes the queues and exchanges the demo declared.
func deleteTopology(client *rabbitmq.Client, t warren.Topology, logger *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, err := client.Channel(ctx)
	if err != nil {
		logger.Warn("cannot delete the demo's topology", zap.Error(err))
		return
	}
	defer func() { _ = ch.Close() }()
	for _, q := range t.Queues {
		if n, err := ch.QueueDelete(q.Name, false, false, false); err == nil && n > 0 {
			logger.Info("deleted queue with messages", zap.String("queue", q.Name), zap.Int("messages", n))
		}
	}
	for _, e := range t.Exchanges {
		_ = ch.ExchangeDelete(e.Name, false, false)
	}
}
