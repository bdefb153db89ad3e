package otelmetrics_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/otelmetrics"
	"github.com/warren-mq/warren/warrentest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func setup(t *testing.T) (*otelmetrics.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m, err := otelmetrics.New(otelmetrics.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	return m, reader
}

// point is one data point: its attributes as "k=v" sorted and joined, and
// its count (sum for counters, count for histograms).
type point struct {
	attrs string
	count int64
}

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelmetrics.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelmetrics.ScopeName)
		}
		for _, m := range sm.Metrics {
			key := m.Name + " [" + m.Unit + "]"
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[key] = append(got[key], point{attrString(p.Attributes), p.Value})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[key] = append(got[key], point{attrString(p.Attributes), int64(p.Count)})
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	for k := range got {
		sort.Slice(got[k], func(i, j int) bool { return got[k][i].attrs < got[k][j].attrs })
	}
	return got
}

func attrString(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

func check(t *testing.T, got map[string][]point, name string, want []point) {
	t.Helper()
	g := got[name]
	if len(g) != len(want) {
		t.Errorf("%s: %d points %v, want %v", name, len(g), g, want)
		return
	}
	for i := range want {
		if g[i] != want[i] {
			t.Errorf("%s point %d:\n got %+v\nwant %+v", name, i, g[i], want[i])
		}
	}
}

func TestMiddlewareRecordsProcessDuration(t *testing.T) {
	m, reader := setup(t)
	r := warren.NewRouter()
	r.Use(m.Middleware())
	r.HandleFunc("Order.*", func(_ context.Context, msg *warren.Message) error {
		switch string(msg.Body) {
		case "bad":
			return warren.DeadLetter("invalid", errors.New("unparsable"))
		case "retry":
			return errors.New("db down")
		}
		return nil
	})
	opts := []warrentest.MessageOption{warrentest.WithExchange("events"), warrentest.WithQueue("shipping")}
	for _, body := range []string{"ok", "ok", "bad", "retry"} {
		warrentest.Serve(r, warrentest.NewMessage("Order.Created", []byte(body), opts...))
	}
	warrentest.Serve(r, warrentest.NewMessage("Invoice.Paid", []byte("x"), opts...)) // NotFound

	check(t, collect(t, reader), "messaging.process.duration [s]", []point{
		{"error.type=_OTHER,messaging.destination.name=events:Order.Created:shipping,messaging.destination.subscription.name=shipping,messaging.destination.template=Order.*,messaging.operation.name=process,messaging.system=rabbitmq", 1},
		{"error.type=invalid,messaging.destination.name=events:Order.Created:shipping,messaging.destination.subscription.name=shipping,messaging.destination.template=Order.*,messaging.operation.name=process,messaging.system=rabbitmq", 1},
		{"error.type=no-route,messaging.destination.name=events:Invoice.Paid:shipping,messaging.destination.subscription.name=shipping,messaging.operation.name=process,messaging.system=rabbitmq", 1},
		{"messaging.destination.name=events:Order.Created:shipping,messaging.destination.subscription.name=shipping,messaging.destination.template=Order.*,messaging.operation.name=process,messaging.system=rabbitmq", 2},
	})
}

func TestObserverRecordsClientMetrics(t *testing.T) {
	m, reader := setup(t)
	var o warren.Observer = m
	o.ObserveSettle(warren.SettleEvent{Queue: "shipping", Route: "Order.*", Action: warren.ActionAck})
	o.ObserveSettle(warren.SettleEvent{Queue: "shipping", Route: "Order.*", Action: warren.ActionDeadLetter, Reason: "invalid", Err: errors.New("x")})
	o.ObserveRetry(warren.RetryEvent{Queue: "shipping", Route: "Order.*", Attempt: 1})
	o.ObservePublish(warren.PublishEvent{Exchange: "events", RoutingKey: "Order.Created", Duration: 3 * time.Millisecond})
	o.ObservePublish(warren.PublishEvent{Exchange: "", RoutingKey: "replies", Duration: time.Millisecond})
	o.ObservePublish(warren.PublishEvent{Exchange: "events", RoutingKey: "Order.Created", Duration: time.Second, Err: errors.New("nack")})
	o.ObserveConnection(warren.ConnectionEvent{Name: "svc", State: warren.ConnUp})

	got := collect(t, reader)
	check(t, got, "messaging.client.consumed.messages [{message}]", []point{
		{"messaging.destination.subscription.name=shipping,messaging.destination.template=Order.*,messaging.operation.name=process,messaging.system=rabbitmq", 2},
	})
	check(t, got, "messaging.client.sent.messages [{message}]", []point{
		{"error.type=_OTHER,messaging.destination.name=events:Order.Created,messaging.operation.name=publish,messaging.system=rabbitmq", 1},
		{"messaging.destination.name=amq.default:replies,messaging.operation.name=publish,messaging.system=rabbitmq", 1},
		{"messaging.destination.name=events:Order.Created,messaging.operation.name=publish,messaging.system=rabbitmq", 1},
	})
	check(t, got, "messaging.client.operation.duration [s]", []point{
		{"error.type=_OTHER,messaging.destination.name=events:Order.Created,messaging.operation.name=publish,messaging.operation.type=send,messaging.system=rabbitmq", 1},
		{"messaging.destination.name=amq.default:replies,messaging.operation.name=publish,messaging.operation.type=send,messaging.system=rabbitmq", 1},
		{"messaging.destination.name=events:Order.Created,messaging.operation.name=publish,messaging.operation.type=send,messaging.system=rabbitmq", 1},
	})
	if len(got) != 3 {
		t.Errorf("instruments recorded: %v, want the three client metrics only", got)
	}
}

func TestMiddlewareRecordsPanic(t *testing.T) {
	m, reader := setup(t)
	h := m.Middleware()(warren.HandlerFunc(func(context.Context, *warren.Message) error { panic("boom") }))
	func() {
		defer func() { _ = recover() }()
		_ = h.ServeMessage(context.Background(), warrentest.NewMessage("k", nil, warrentest.WithQueue("q")))
	}()
	check(t, collect(t, reader), "messaging.process.duration [s]", []point{
		{"error.type=panic,messaging.destination.name=amq.default:k:q,messaging.destination.subscription.name=q,messaging.operation.name=process,messaging.system=rabbitmq", 1},
	})
}
