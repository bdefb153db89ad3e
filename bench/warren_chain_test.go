package bench

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/bench/benchkit"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/middleware/tracing"
)

func init() {
	targetConsumers = append(targetConsumers, warrenChainConsumer)
}

// warrenChainConsumer is warren's consumer with the default middleware
// chain a production service mounts: recover, logging (ack lines off),
// metrics (on its own registry, also the client's observer), tracing (a
// no-op provider) and a timeout. Issue 4 asks it to cost at most 1.15x the
// bare consumer on the consume target, measured in the same run.
var warrenChainConsumer = benchkit.Consumer{
	Lib: "warren-chain",
	Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
		m, err := metrics.New(metrics.WithRegisterer(prometheus.NewRegistry()))
		if err != nil {
			b.Fatal(err)
		}
		chain := []warren.Middleware{
			middleware.Recover,
			logging.Middleware(zap.NewNop(), logging.DisableAcks()),
			m.Middleware(),
			tracing.Middleware(tracing.WithTracerProvider(noop.NewTracerProvider())),
			middleware.Timeout(30 * time.Second),
		}
		return prepareWarrenWith(b, run, chain, []rabbitmq.Option{rabbitmq.WithObserver(m)},
			rabbitmq.WithWorkers(run.Scenario.Workers), rabbitmq.WithPrefetch(run.Scenario.Prefetch))
	},
}
