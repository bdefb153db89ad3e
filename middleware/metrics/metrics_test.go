package metrics_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/warrentest"
)

func newMetrics(t *testing.T, opts ...metrics.Option) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(append([]metrics.Option{metrics.WithRegisterer(reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestMiddlewareDurationAndInFlight(t *testing.T) {
	m, reg := newMetrics(t)
	var during float64
	r := warren.NewRouter()
	r.Use(m.Middleware(), middleware.Recover)
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error {
		during = gauge(t, reg, "warren_messages_in_flight", "orders")
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	r.HandleFunc("Boom", func(context.Context, *warren.Message) error { panic("x") })

	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil, warrentest.WithQueue("orders")))
	warrentest.Serve(r, warrentest.NewMessage("Order.Paid", nil, warrentest.WithQueue("orders")))
	warrentest.Serve(r, warrentest.NewMessage("Boom", nil, warrentest.WithQueue("orders")))
	warrentest.Serve(r, warrentest.NewMessage("Nobody.Home", nil, warrentest.WithQueue("orders")))

	if during != 1 {
		t.Errorf("in flight during the handler = %v, want 1", during)
	}
	if after := gauge(t, reg, "warren_messages_in_flight", "orders"); after != 0 {
		t.Errorf("in flight after = %v, want 0", after)
	}
	h := histograms(t, reg, "warren_handler_duration_seconds")
	if got := h["orders/Order.*"]; got.GetSampleCount() != 2 || got.GetSampleSum() < 0.04 {
		t.Errorf("Order.* duration: %d samples summing %vs, want 2 summing >= 0.04s", got.GetSampleCount(), got.GetSampleSum())
	}
	if h["orders/Boom"].GetSampleCount() != 1 || h["orders/(none)"].GetSampleCount() != 1 {
		t.Errorf("durations %v, want one sample for Boom and one for (none)", h)
	}
}

func TestMiddlewareInFlightAfterPanic(t *testing.T) {
	m, reg := newMetrics(t)
	h := m.Middleware()(warren.HandlerFunc(func(context.Context, *warren.Message) error { panic("through") }))
	func() {
		defer func() { _ = recover() }()
		warrentest.Serve(h, warrentest.NewMessage("a", nil, warrentest.WithQueue("q")))
	}()
	if g := gauge(t, reg, "warren_messages_in_flight", "q"); g != 0 {
		t.Fatalf("in flight after a panic = %v, want 0", g)
	}
}

func TestObserverCounts(t *testing.T) {
	m, reg := newMetrics(t)
	var o warren.Observer = warren.Observers{m}
	for range 3 {
		o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionAck})
	}
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionRetry})
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionDeadLetter, Reason: warren.ReasonError})
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionDeadLetter, Reason: warren.ReasonDecode})
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Action: warren.ActionDeadLetter, Reason: warren.ReasonNoRoute})
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionDrop})
	o.ObserveRetry(warren.RetryEvent{Queue: "orders", Route: "Order.*", Attempt: 1})
	o.ObserveRetry(warren.RetryEvent{Queue: "orders", Route: "Order.*", Attempt: 2, Delayed: true, Delay: time.Second})
	o.ObserveRetry(warren.RetryEvent{Queue: "orders", Route: "Order.*", Attempt: 3, Delayed: true, Delay: time.Second})

	want := `
# HELP warren_dead_lettered_total Messages dead-lettered, by reason.
# TYPE warren_dead_lettered_total counter
warren_dead_lettered_total{queue="orders",reason="decode"} 1
warren_dead_lettered_total{queue="orders",reason="error"} 1
warren_dead_lettered_total{queue="orders",reason="no-route"} 1
# HELP warren_messages_consumed_total Messages settled, by the settlement performed.
# TYPE warren_messages_consumed_total counter
warren_messages_consumed_total{outcome="ack",queue="orders",route="Order.*"} 3
warren_messages_consumed_total{outcome="dead-letter",queue="orders",route="(none)"} 1
warren_messages_consumed_total{outcome="dead-letter",queue="orders",route="Order.*"} 2
warren_messages_consumed_total{outcome="drop",queue="orders",route="Order.*"} 1
warren_messages_consumed_total{outcome="retry",queue="orders",route="Order.*"} 1
# HELP warren_retries_total Retries of failed messages, in place or delayed through a wait queue.
# TYPE warren_retries_total counter
warren_retries_total{delayed="false",queue="orders",route="Order.*"} 1
warren_retries_total{delayed="true",queue="orders",route="Order.*"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"warren_messages_consumed_total", "warren_dead_lettered_total", "warren_retries_total"); err != nil {
		t.Fatal(err)
	}
}

func TestObservePublish(t *testing.T) {
	m, reg := newMetrics(t)
	m.ObservePublish(warren.PublishEvent{Exchange: "events", RoutingKey: "a", Duration: 2 * time.Millisecond})
	m.ObservePublish(warren.PublishEvent{Exchange: "events", RoutingKey: "b", Duration: 4 * time.Millisecond})
	m.ObservePublish(warren.PublishEvent{Exchange: "events", Err: errors.New("nack")})
	m.ObservePublish(warren.PublishEvent{RoutingKey: "amq.rabbitmq.reply-to.x"})
	want := `
# HELP warren_published_total Publishes confirmed (ok) or failed (error).
# TYPE warren_published_total counter
warren_published_total{exchange="(default)",outcome="ok"} 1
warren_published_total{exchange="events",outcome="error"} 1
warren_published_total{exchange="events",outcome="ok"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "warren_published_total"); err != nil {
		t.Fatal(err)
	}
	h := histograms(t, reg, "warren_publish_duration_seconds")
	if ok := h["events/ok"]; ok.GetSampleCount() != 2 || ok.GetSampleSum() < 0.0059 || ok.GetSampleSum() > 0.0061 {
		t.Errorf("events/ok publish duration: %d samples summing %v, want 2 summing 0.006", ok.GetSampleCount(), ok.GetSampleSum())
	}
}

func TestObserveConnection(t *testing.T) {
	m, reg := newMetrics(t)
	events := []warren.ConnState{warren.ConnUp, warren.ConnDown, warren.ConnDown, warren.ConnUp, warren.ConnDown, warren.ConnUp}
	wantUp := []float64{1, 0, 0, 1, 0, 1}
	wantReconnects := []float64{0, 0, 0, 1, 1, 2}
	for i, s := range events {
		m.ObserveConnection(warren.ConnectionEvent{Name: "svc.consume", State: s, Attempt: i})
		if up := gauge(t, reg, "warren_connection_up", "svc.consume"); up != wantUp[i] {
			t.Errorf("after event %d (%v): connection_up = %v, want %v", i, s, up, wantUp[i])
		}
		if n, ok := counter(t, reg, "warren_reconnects_total", "svc.consume"); !ok || n != wantReconnects[i] {
			t.Errorf("after event %d (%v): reconnects = %v (series present %v), want %v", i, s, n, ok, wantReconnects[i])
		}
	}
	m.ObserveConnection(warren.ConnectionEvent{Name: "svc.consume", State: warren.ConnClosed})
	if up := gauge(t, reg, "warren_connection_up", "svc.consume"); up != 0 {
		t.Errorf("closed: connection_up = %v, want 0", up)
	}
	// A second connection starting for the first time is no reconnect.
	m.ObserveConnection(warren.ConnectionEvent{Name: "svc.publish", State: warren.ConnUp})
	if n, ok := counter(t, reg, "warren_reconnects_total", "svc.publish"); !ok || n != 0 {
		t.Errorf("first connection: reconnects = %v (series present %v), want 0", n, ok)
	}
}

func TestNewOptionsAndErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.WithRegisterer(reg), metrics.WithNamespace("shop"),
		metrics.WithConstLabels(prometheus.Labels{"service": "orders"}),
		metrics.WithHandlerBuckets([]float64{1}), metrics.WithPublishBuckets([]float64{1}))
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveSettle(warren.SettleEvent{Queue: "q", Action: warren.ActionAck})
	want := `
# HELP shop_messages_consumed_total Messages settled, by the settlement performed.
# TYPE shop_messages_consumed_total counter
shop_messages_consumed_total{outcome="ack",queue="q",route="(none)",service="orders"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "shop_messages_consumed_total"); err != nil {
		t.Error(err)
	}
	// Twice on one registry fails cleanly and leaves the first set intact.
	if _, err := metrics.New(metrics.WithRegisterer(reg), metrics.WithNamespace("shop")); err == nil {
		t.Error("second New on the same registry succeeded")
	}
	if n := testutil.CollectAndCount(reg, "shop_messages_consumed_total"); n != 1 {
		t.Errorf("after the failed New: %d consumed series, want 1", n)
	}
	// And does not touch the global registry.
	if n, _ := testutil.GatherAndCount(prometheus.DefaultGatherer, "shop_messages_consumed_total"); n != 0 {
		t.Errorf("metrics leaked into the default registry")
	}
	// A nil *Metrics ignores events (safe in a fan-out).
	var nilM *metrics.Metrics
	nilM.ObserveSettle(warren.SettleEvent{})
	nilM.ObserveRetry(warren.RetryEvent{})
	nilM.ObservePublish(warren.PublishEvent{})
	nilM.ObserveConnection(warren.ConnectionEvent{})
}

func TestBuildInfo(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if _, err := metrics.New(metrics.WithRegisterer(reg)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "warren_build_info" {
			continue
		}
		m := mf.GetMetric()[0]
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if m.GetGauge().GetValue() != 1 || labels["goversion"] != runtime.Version() || labels["version"] == "" {
			t.Errorf("warren_build_info %v = %v, want 1 with version and goversion %s", labels, m.GetGauge().GetValue(), runtime.Version())
		}
		return
	}
	t.Fatal("no warren_build_info")
}
