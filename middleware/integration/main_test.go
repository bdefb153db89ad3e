package integration_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dial dials a client to url named uniquely after the test, with fast
// reconnects, and closes it when the test ends. It returns the client and
// its name, the prefix of its connections' names.
func dial(t *testing.T, url string, opts ...rabbitmq.Option) (*rabbitmq.Client, string) {
	t.Helper()
	name := brokertest.Name(t, "client")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts = append([]rabbitmq.Option{rabbitmq.WithName(name), rabbitmq.WithReconnect(50*time.Millisecond, time.Second, 0)}, opts...)
	c, err := rabbitmq.Dial(ctx, url, opts...)
	if err != nil {
		t.Fatalf("cannot reach RabbitMQ: %v\nstart one with `make broker`", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, name
}

// testSpec returns a unique stream spec for the test; its exchange, queue,
// dead-letter queue and the wait queues of delays are deleted afterwards.
func testSpec(t *testing.T, delays ...time.Duration) rabbitmq.Spec {
	t.Helper()
	spec := rabbitmq.TopicSpec(brokertest.Name(t, "stream"), "consumer")
	queues := []string{spec.Queue.Name, warren.DeadLetterQueue(spec.Queue.Name)}
	for _, d := range delays {
		queues = append(queues, warren.WaitQueue(spec.Queue.Name, d))
	}
	brokertest.DeleteQueues(t, queues...)
	brokertest.DeleteExchanges(t, spec.Exchange.Name)
	return spec
}

// run starts a consumer of spec through r and shuts it down when the test
// ends; the returned function does so earlier and returns Run's error.
func run(t *testing.T, c *rabbitmq.Client, r *warren.Router, spec rabbitmq.Spec, opts ...rabbitmq.ConsumerOption) (stop func() error) {
	t.Helper()
	cons, err := c.NewConsumer(context.Background(), r, spec, opts...)
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cons.Run(context.Background()) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = cons.Shutdown(ctx)
			runErr = <-errc
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// publish publishes an empty JSON body to exchange with key and id, and
// fails the test unless the broker confirms it.
func publish(ctx context.Context, t *testing.T, p warren.Publisher, exchange, key, id string) {
	t.Helper()
	pub := &warren.Publishing{Exchange: exchange, RoutingKey: key}
	pub.MessageId, pub.ContentType, pub.Body = id, "application/json", []byte("{}")
	if err := p.Publish(ctx, pub); err != nil {
		t.Fatalf("publish %s: %v", id, err)
	}
}

// eventually polls cond until it holds, or fails the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor receives from ch, or fails the test after 30 seconds.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// closeConnections closes, from the broker side, the connections whose
// name starts with prefix (brokertest.CloseConnections).
func closeConnections(t *testing.T, prefix, reason string) int {
	return brokertest.CloseConnections(t, prefix, reason)
}
