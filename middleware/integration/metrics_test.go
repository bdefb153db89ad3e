package integration_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/retry"
)

// mixedRouter mounts the routes of the mixed runs behind mws: Order.Ok
// acks, Order.Flaky fails its first attempt, Order.Exhausted always fails
// (retried, then dead-lettered with reason "error"), Order.Bad fails
// permanently.
func mixedRouter(mws ...warren.Middleware) *warren.Router {
	r := warren.NewRouter()
	r.Use(mws...)
	r.HandleFunc("Order.Ok", func(context.Context, *warren.Message) error { return nil })
	r.HandleFunc("Order.Flaky", func(_ context.Context, msg *warren.Message) error {
		if msg.Attempt == 1 {
			return errors.New("flaky: first attempt fails")
		}
		return nil
	})
	r.HandleFunc("Order.Exhausted", func(context.Context, *warren.Message) error { return errors.New("exhausted: always fails") })
	r.HandleFunc("Order.Bad", func(context.Context, *warren.Message) error { return warren.Permanent(errors.New("bad")) })
	return r
}

// TestMetricsAfterMixedRun runs acks, a delayed retry that succeeds, a
// retry that runs out, a permanent failure and an unroutable key through
// the broker, then scrapes the registry: every count matches what
// happened, the transport's republishes included.
func TestMetricsAfterMixedRun(t *testing.T) {
	const delay = 100 * time.Millisecond
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	client, name := dial(t, brokertest.Require(t), rabbitmq.WithObserver(warren.Observers{m, logging.NewObserver(zap.New(core))}))
	spec := testSpec(t, delay)
	q, ex := spec.Queue.Name, spec.Exchange.Name
	run(t, client, mixedRouter(m.Middleware()), spec, rabbitmq.WithRetry(retry.Delays(delay)))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub := client.Publisher()
	for i := range 3 {
		publish(ctx, t, pub, ex, "Order.Ok", fmt.Sprint("ok-", i))
	}
	publish(ctx, t, pub, ex, "Order.Flaky", "flaky-0")
	publish(ctx, t, pub, ex, "Order.Flaky", "flaky-1")
	publish(ctx, t, pub, ex, "Order.Exhausted", "exhausted-0")
	publish(ctx, t, pub, ex, "Order.Bad", "bad-0")
	publish(ctx, t, pub, "", q, "unrouted-0") // straight to the queue: its key matches no route

	// 3 ok + 2x2 flaky + 2 exhausted + 1 bad + 1 unrouted settlements.
	eventually(t, 20*time.Second, "11 settlements", func() bool { return total(t, reg, "warren_messages_consumed_total") >= 11 })
	time.Sleep(3 * delay) // nothing more may come

	l := func(format string) string { return fmt.Sprintf(format, q) }
	expectSeries(t, reg, "warren_messages_consumed_total", map[string]float64{
		l(`outcome="ack",queue="%s",route="Order.Ok"`):                3,
		l(`outcome="retry",queue="%s",route="Order.Flaky"`):           2,
		l(`outcome="ack",queue="%s",route="Order.Flaky"`):             2,
		l(`outcome="retry",queue="%s",route="Order.Exhausted"`):       1,
		l(`outcome="dead-letter",queue="%s",route="Order.Exhausted"`): 1,
		l(`outcome="dead-letter",queue="%s",route="Order.Bad"`):       1,
		l(`outcome="dead-letter",queue="%s",route="(none)"`):          1,
	})
	expectSeries(t, reg, "warren_retries_total", map[string]float64{
		l(`delayed="true",queue="%s",route="Order.Flaky"`):     2,
		l(`delayed="true",queue="%s",route="Order.Exhausted"`): 1,
	})
	expectSeries(t, reg, "warren_dead_lettered_total", map[string]float64{
		l(`queue="%s",reason="error"`):     1,
		l(`queue="%s",reason="permanent"`): 1,
		l(`queue="%s",reason="no-route"`):  1,
	})
	// The test's 8 publishes (7 to the exchange, 1 to the queue) and the
	// transport's 3 retry and 3 dead-letter republishes (default exchange).
	published := map[string]float64{
		fmt.Sprintf(`exchange="%s",outcome="ok"`, ex): 7,
		`exchange="(default)",outcome="ok"`:           7,
	}
	expectSeries(t, reg, "warren_published_total", published)
	expectSeries(t, reg, "warren_messages_in_flight", map[string]float64{l(`queue="%s"`): 0})
	conns := map[string]float64{
		fmt.Sprintf(`connection="%s.consume"`, name): 1,
		fmt.Sprintf(`connection="%s.publish"`, name): 1,
	}
	expectSeries(t, reg, "warren_connection_up", conns)
	expectSeries(t, reg, "warren_reconnects_total", map[string]float64{
		fmt.Sprintf(`connection="%s.consume"`, name): 0,
		fmt.Sprintf(`connection="%s.publish"`, name): 0,
	})

	wantHandled := map[string]uint64{q + "/Order.Ok": 3, q + "/Order.Flaky": 4, q + "/Order.Exhausted": 2, q + "/Order.Bad": 1, q + "/(none)": 1}
	if got := sampleCounts(t, reg, "warren_handler_duration_seconds"); !maps.Equal(got, wantHandled) {
		t.Errorf("handler duration sample counts %v, want %v", got, wantHandled)
	}
	wantPublished := map[string]uint64{ex + "/ok": 7, "(default)/ok": 7}
	if got := sampleCounts(t, reg, "warren_publish_duration_seconds"); !maps.Equal(got, wantPublished) {
		t.Errorf("publish duration sample counts %v, want %v", got, wantPublished)
	}

	ch := brokertest.Channel(t)
	if dl, err := ch.QueueDeclarePassive(warren.DeadLetterQueue(q), true, false, false, false, nil); err != nil || dl.Messages != 3 {
		t.Errorf("dead-letter queue holds %d messages (%v), want the 3 the metrics counted", dl.Messages, err)
	}
	// The logging observer, in the same fan-out, logged the one
	// dead-letter the retry policy decided.
	if n := logs.FilterMessage("message dead-lettered").FilterField(zap.String("reason", "error")).Len(); n != 1 {
		t.Errorf("%d policy dead-letter log lines, want 1: %v", n, logs.All())
	}
}
