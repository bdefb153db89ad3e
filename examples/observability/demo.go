package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/middleware/metrics"
	"github.com/warren-mq/warren/middleware/tracing"
)

// event is one message the demo publishes.
type event struct{ id, key string }

// events: three orders placed (each handler publishes a follow-up
// Order.Shipped), two payments that fail once and succeed on the delayed
// retry, and a cancellation that fails for good (dead-lettered).
var events = []event{
	{"order-1", "Order.Placed"}, {"order-2", "Order.Placed"}, {"order-3", "Order.Placed"},
	{"pay-1", "Order.Paid"}, {"pay-2", "Order.Paid"},
	{"cancel-1", "Order.Cancelled"},
}

// settlements is how many deliveries the events make: 3 placed, 3
// shipped, 2x2 paid, 1 cancelled.
const settlements = 11

// newRouter mounts the demo's handlers behind the observability stack.
func newRouter(logger *zap.Logger, m *metrics.Metrics, s *sightings) *warren.Router {
	r := warren.NewRouter()
	r.Use(
		middleware.CorrelationID,
		logging.Middleware(logger),
		m.Middleware(),
		tracing.Middleware(), // the global TracerProvider and propagator
		s.middleware,
		middleware.Recover,
	)
	r.HandleFunc("Order.Placed", func(ctx context.Context, msg *warren.Message) error {
		logging.FromContext(ctx).Info("order placed; shipping it")
		p := &warren.Publishing{Exchange: msg.Exchange, RoutingKey: "Order.Shipped"}
		p.MessageId, p.ContentType, p.Body = "ship-"+msg.MessageID, "application/json", []byte(`{}`)
		return warren.Publish(ctx, p) // carries the trace (and the correlation id)
	})
	r.HandleFunc("Order.Shipped", func(context.Context, *warren.Message) error { return nil })
	r.HandleFunc("Order.Paid", func(_ context.Context, msg *warren.Message) error {
		if msg.Attempt == 1 {
			return errors.New("payment gateway timed out") // retried after the delay
		}
		return nil
	})
	r.HandleFunc("Order.Cancelled", func(context.Context, *warren.Message) error {
		return warren.Permanent(errors.New("order already shipped"))
	})
	return r
}

// publishEvents publishes each event in a trace of its own, as a service
// handling a request would, and returns the trace id of each.
func publishEvents(ctx context.Context, pub warren.Publisher, exchange string) ([]trace.TraceID, error) {
	tracer := otel.Tracer("observability-example")
	ids := make([]trace.TraceID, len(events))
	for i, e := range events {
		ctx, span := tracer.Start(ctx, "request "+e.id)
		p := &warren.Publishing{Exchange: exchange, RoutingKey: e.key}
		p.MessageId, p.ContentType, p.Body = e.id, "application/json", []byte(`{}`)
		err := pub.Publish(ctx, p)
		span.End()
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", e.id, err)
		}
		ids[i] = span.SpanContext().TraceID()
	}
	return ids, nil
}

// sighting is one delivery as the handler saw it.
type sighting struct {
	id, key string
	attempt int
	trace   trace.TraceID
	outcome string
}

// sightings records every delivery with the trace it was processed in.
type sightings struct {
	mu   sync.Mutex
	list []sighting
}

func (s *sightings) middleware(next warren.Handler) warren.Handler {
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		s.mu.Lock()
		i := len(s.list) // listed in the order handlers started
		s.list = append(s.list, sighting{msg.MessageID, msg.RoutingKey, msg.Attempt, trace.SpanContextFromContext(ctx).TraceID(), ""})
		s.mu.Unlock()
		err := next.ServeMessage(ctx, msg)
		s.mu.Lock()
		s.list[i].outcome = warren.OutcomeOf(err).Action.String()
		s.mu.Unlock()
		return err
	})
}

func (s *sightings) all() []sighting {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sighting(nil), s.list...)
}

// settleCounter is a warren.Observer that counts settlements and closes
// done when n were reached.
type settleCounter struct {
	warren.NopObserver
	n     int64
	count atomic.Int64
	done  chan struct{}
	once  sync.Once
}

func newSettleCounter(n int) *settleCounter {
	return &settleCounter{n: int64(n), done: make(chan struct{})}
}

// ObserveSettle implements warren.Observer.
func (c *settleCounter) ObserveSettle(warren.SettleEvent) {
	if c.count.Add(1) >= c.n {
		c.once.Do(func() { close(c.done) })
	}
}
