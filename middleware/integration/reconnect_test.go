package integration_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/retry"
)

// handled records, as ground truth, every handler return by route and the
// outcome the handler asked for, and the message ids seen.
type handled struct {
	mu    sync.Mutex
	count map[string]int // "outcome/route" -> returns
	ids   map[string]bool
}

func newHandled() *handled { return &handled{count: map[string]int{}, ids: map[string]bool{}} }

func (h *handled) middleware(next warren.Handler) warren.Handler {
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		err := next.ServeMessage(ctx, msg)
		route := msg.Route
		if route == "" {
			route = "(none)"
		}
		h.mu.Lock()
		h.count[warren.OutcomeOf(err).Action.String()+"/"+route]++
		h.ids[msg.MessageID] = true
		h.mu.Unlock()
		return err
	})
}

// snapshot returns the counts, the number of returns and of distinct ids.
func (h *handled) snapshot() (map[string]int, int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out, n := map[string]int{}, 0
	for k, v := range h.count {
		out[k] = v
		n += v
	}
	return out, n, len(h.ids)
}

// TestMetricsAcrossReconnect runs a mixed load, closes the client's two
// connections from the broker side while handlers are in flight, and runs
// a second mixed load: warren_reconnects_total counts one recovery per
// connection, both are up again, and the settlement counts still match
// what the handlers did, redeliveries included.
func TestMetricsAcrossReconnect(t *testing.T) {
	const (
		delay   = 100 * time.Millisecond
		workers = 4
		stream  = 20
	)
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	client, name := dial(t, brokertest.Require(t), rabbitmq.WithObserver(m))
	spec := testSpec(t, delay)
	q, ex := spec.Queue.Name, spec.Exchange.Name
	truth := newHandled()
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	r := mixedRouter(m.Middleware(), truth.middleware)
	r.HandleFunc("Order.Stream", func(ctx context.Context, _ *warren.Message) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	run(t, client, r, spec, rabbitmq.WithWorkers(workers), rabbitmq.WithRetry(retry.Delays(delay)))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pub := client.Publisher()
	mixed := func(batch string) {
		for i := range 5 {
			publish(ctx, t, pub, ex, "Order.Ok", fmt.Sprintf("%s-ok-%d", batch, i))
		}
		publish(ctx, t, pub, ex, "Order.Flaky", batch+"-flaky")
		publish(ctx, t, pub, ex, "Order.Bad", batch+"-bad")
	}
	mixed("a")
	eventually(t, 20*time.Second, "the first batch's 8 settlements", func() bool { return total(t, reg, "warren_messages_consumed_total") == 8 })

	for i := range stream {
		publish(ctx, t, pub, ex, "Order.Stream", fmt.Sprint("stream-", i))
	}
	inFlight := func() float64 { return value(t, reg, "warren_messages_in_flight", q) }
	eventually(t, 20*time.Second, "every worker busy", func() bool { return inFlight() == workers })
	if n := closeConnections(t, name, "warren integration test: reconnect"); n != 2 {
		t.Fatalf("closed %d connections named %s*, want 2", n, name)
	}
	consume, publishing := name+".consume", name+".publish"
	eventually(t, 30*time.Second, "both connections recovered", func() bool {
		return value(t, reg, "warren_reconnects_total", consume) == 1 && value(t, reg, "warren_reconnects_total", publishing) == 1 &&
			value(t, reg, "warren_connection_up", consume) == 1 && value(t, reg, "warren_connection_up", publishing) == 1
	})
	releaseOnce.Do(func() { close(release) })

	mixed("b")
	publish(ctx, t, pub, "", q, "b-unrouted")
	ids := 2*7 + stream + 1
	eventually(t, 30*time.Second, "every message handled and settled", func() bool {
		counts, n, distinct := truth.snapshot()
		return distinct == ids && counts["ack/Order.Flaky"] == 2 && // both retries done
			total(t, reg, "warren_messages_consumed_total") == float64(n) && inFlight() == 0
	})
	time.Sleep(3 * delay) // nothing more may come
	counts, n, _ := truth.snapshot()

	consumed := map[string]float64{}
	for k, v := range counts {
		outcome, route, _ := strings.Cut(k, "/")
		consumed[fmt.Sprintf(`outcome="%s",queue="%s",route="%s"`, outcome, q, route)] = float64(v)
	}
	expectSeries(t, reg, "warren_messages_consumed_total", consumed)
	if counts["ack/Order.Stream"] < stream || counts["retry/Order.Flaky"] != 2 || counts["ack/Order.Flaky"] != 2 ||
		counts["dead-letter/Order.Bad"] != 2 || counts["dead-letter/(none)"] != 1 {
		t.Errorf("handlers returned %v (%d in all)", counts, n)
	}
	t.Logf("%d stream messages handled %d times; %d were in flight at the close", stream, counts["ack/Order.Stream"], workers)
	expectSeries(t, reg, "warren_reconnects_total", map[string]float64{
		fmt.Sprintf(`connection="%s"`, consume):    1,
		fmt.Sprintf(`connection="%s"`, publishing): 1,
	})
	expectSeries(t, reg, "warren_connection_up", map[string]float64{
		fmt.Sprintf(`connection="%s"`, consume):    1,
		fmt.Sprintf(`connection="%s"`, publishing): 1,
	})
	expectSeries(t, reg, "warren_messages_in_flight", map[string]float64{fmt.Sprintf(`queue="%s"`, q): 0})
	expectSeries(t, reg, "warren_retries_total", map[string]float64{
		fmt.Sprintf(`delayed="true",queue="%s",route="Order.Flaky"`, q): 2,
	})
	expectSeries(t, reg, "warren_dead_lettered_total", map[string]float64{
		fmt.Sprintf(`queue="%s",reason="permanent"`, q): 2,
		fmt.Sprintf(`queue="%s",reason="no-route"`, q):  1,
	})
	// 2x7 mixed and the stream to the exchange; the unrouted message, 2
	// retries and 3 dead-letters through the default exchange; no errors.
	expectSeries(t, reg, "warren_published_total", map[string]float64{
		fmt.Sprintf(`exchange="%s",outcome="ok"`, ex): 2*7 + stream,
		`exchange="(default)",outcome="ok"`:           6,
	})
}
