package rabbitmq

import (
	"context"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// toxiproxy's own goroutines of a bandwidth toxic (outageProxy's
		// stopReading) stay blocked in its link after the proxy stops; they
		// are the fault proxy's, not warren's.
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2/toxics.(*ToxicStub).Run"),
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2.(*ToxicLink).read"),
	)
}

// newTestClient dials a client named after the test and closes it when the
// test ends.
func newTestClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	url := brokertest.Require(t)
	name := brokertest.Name(t, "client")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, append([]Option{WithName(name), WithReconnect(50*time.Millisecond, time.Second, 0)}, opts...)...)
	if err != nil {
		t.Fatalf("cannot reach RabbitMQ: %v\nstart one with `make broker`", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testSpec returns a unique event-stream spec for the test, with its
// queues and exchange deleted afterwards.
func testSpec(t *testing.T, delays ...time.Duration) Spec {
	t.Helper()
	service := brokertest.Name(t, "svc")
	spec := TopicSpec(service, "consumer")
	queues := []string{spec.Queue.Name, warren.DeadLetterQueue(spec.Queue.Name), deadletter.ReplayQueue(spec.Queue.Name)}
	for _, d := range delays {
		queues = append(queues, warren.WaitQueue(spec.Queue.Name, d))
	}
	brokertest.DeleteQueues(t, queues...)
	brokertest.DeleteExchanges(t, spec.Exchange.Name)
	return spec
}

// runConsumer runs c in the background; the returned function shuts it
// down and returns Run's error.
func runConsumer(t *testing.T, c *Consumer) (stop func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- c.Run(context.Background()) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := c.Shutdown(ctx); err != nil && err != errNotRunning {
				runErr = err
			}
			if err := <-errc; err != nil && runErr == nil {
				runErr = err
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// depth returns the number of ready messages in queue.
func depth(t *testing.T, ch *amqp.Channel, queue string) int {
	t.Helper()
	return brokertest.Depth(t, ch, queue)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	brokertest.Eventually(t, timeout, what, cond)
}

// drain takes every message from queue with basic.get.
func drain(t *testing.T, ch *amqp.Channel, queue string) []amqp.Delivery {
	t.Helper()
	return brokertest.Drain(t, ch, queue)
}

// closeConnections closes, from the broker side, the connections whose
// name starts with prefix (brokertest.CloseConnections).
func closeConnections(t *testing.T, prefix, reason string) int {
	return brokertest.CloseConnections(t, prefix, reason)
}
