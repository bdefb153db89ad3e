package integration_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/tracing"
	"github.com/warren-mq/warren/retry"
)

// TestTraceSurvivesRetryAndDeadLetter publishes, in one trace, a message
// that fails once and one that fails permanently: the delayed retry's
// second delivery is processed in the same trace, and the dead-letter copy
// in the DLQ carries it.
func TestTraceSurvivesRetryAndDeadLetter(t *testing.T) {
	testTraceSurvivesRetry(t, func(tr *tracer) rabbitmq.Option { return tr.dialOption() })
}

func testTraceSurvivesRetry(t *testing.T, wiring func(*tracer) rabbitmq.Option) {
	const delay = 100 * time.Millisecond
	tr := newTracer(t)
	client, _ := dial(t, brokertest.Require(t), wiring(tr))
	spec := testSpec(t, delay)
	r := warren.NewRouter()
	r.Use(tracing.Middleware(tr.opts...), middleware.Recover)
	r.HandleFunc("Order.Flaky", func(_ context.Context, msg *warren.Message) error {
		if msg.Attempt == 1 {
			return errors.New("flaky: first attempt fails")
		}
		return nil
	})
	r.HandleFunc("Order.Bad", func(context.Context, *warren.Message) error {
		return warren.Permanent(errors.New("bad: always fails"))
	})
	run(t, client, r, spec, rabbitmq.WithRetry(retry.Delays(delay)))

	ctx, root := tr.tp.Tracer("checkout").Start(context.Background(), "checkout")
	publish(ctx, t, client.Publisher(), spec.Exchange.Name, "Order.Flaky", "flaky-1")
	publish(ctx, t, client.Publisher(), spec.Exchange.Name, "Order.Bad", "bad-1")
	root.End()
	traceID := root.SpanContext().TraceID()

	eventually(t, 15*time.Second, "the retried delivery's consumer span", func() bool { return len(tr.consumerSpans("flaky-1")) == 2 })
	for i, s := range tr.consumerSpans("flaky-1") {
		if attr(s, "warren.attempt") != int64(i+1) {
			t.Errorf("span %d of flaky-1 has attempt %v", i, attr(s, "warren.attempt"))
		}
		if s.SpanContext.TraceID() != traceID {
			t.Errorf("attempt %d of flaky-1 processed in trace %s, want the publisher's %s", i+1, s.SpanContext.TraceID(), traceID)
		}
	}

	// The transport's republishes (the wait-queue retry and the dead
	// letter) are producer spans in the message's trace, named and
	// addressed per the conventions.
	var republished []string
	for _, s := range tr.spans(trace.SpanKindProducer) {
		if s.SpanContext.TraceID() != traceID {
			continue
		}
		dest, _ := attr(s, "messaging.destination.name").(string)
		republished = append(republished, s.Name+" -> "+dest)
		if strings.HasPrefix(dest, ":") || !strings.HasPrefix(s.Name, "publish ") || s.Name == "publish " {
			t.Errorf("producer span %q has destination %q: the default exchange must be amq.default", s.Name, dest)
		}
	}
	t.Logf("producer spans: %v", republished)
	for _, want := range []string{"publish amq.default -> amq.default:" + warren.DeadLetterQueue(spec.Queue.Name),
		"publish " + spec.Exchange.Name + " -> " + spec.Exchange.Name + ":Order.Bad"} {
		if !slices.Contains(republished, want) {
			t.Errorf("no producer span %q in %v", want, republished)
		}
	}
	if len(republished) < 4 { // two publishes, one retry, one dead letter
		t.Errorf("%d producer spans in the trace (%v), want the two publishes, the retry and the dead letter", len(republished), republished)
	}

	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	var traceparent any
	eventually(t, 15*time.Second, "the dead letter", func() bool {
		d, ok, err := ch.Get(dlq, true)
		if err != nil {
			t.Fatalf("get from %s: %v", dlq, err)
		}
		traceparent = d.Headers["traceparent"]
		return ok
	})
	h := amqp.Table{"traceparent": traceparent}
	sc := trace.SpanContextFromContext(tr.prop.Extract(context.Background(), tracing.HeaderCarrier(h)))
	if sc.TraceID() != traceID {
		t.Errorf("dead letter carries traceparent %v (trace %s), want trace %s", traceparent, sc.TraceID(), traceID)
	}
}
