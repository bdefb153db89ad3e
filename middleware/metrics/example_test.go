package metrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/warrentest"
)

func ExampleNew() {
	reg := prometheus.NewRegistry() // serve it with promhttp.HandlerFor(reg, ...)
	m, err := metrics.New(metrics.WithRegisterer(reg))
	if err != nil {
		panic(err)
	}
	// The transport reports settlements to its Observer: m, or a
	// warren.Observers holding m.
	var o warren.Observer = warren.Observers{m}
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionAck})
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionDeadLetter, Reason: "decode"})

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			if c := s.GetCounter(); c != nil && c.GetValue() > 0 {
				fmt.Print(mf.GetName(), "{")
				for _, l := range s.GetLabel() {
					fmt.Printf("%s=%q,", l.GetName(), l.GetValue())
				}
				fmt.Println("}", c.GetValue())
			}
		}
	}
	// Output:
	// warren_dead_lettered_total{queue="orders",reason="decode",} 1
	// warren_messages_consumed_total{outcome="ack",queue="orders",route="Order.*",} 1
	// warren_messages_consumed_total{outcome="dead-letter",queue="orders",route="Order.*",} 1
}

func ExampleMetrics_Middleware() {
	reg := prometheus.NewRegistry()
	m, _ := metrics.New(metrics.WithRegisterer(reg))

	r := warren.NewRouter()
	r.Use(m.Middleware()) // on the root router: NotFound is timed too
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { return nil })

	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil, warrentest.WithQueue("orders")))
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "warren_handler_duration_seconds" {
			fmt.Println(mf.GetName(), mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	// Output: warren_handler_duration_seconds 1
}
