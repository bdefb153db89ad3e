package partition

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dialClient dials a client called name, closed when the test ends.
func dialClient(t *testing.T, name string, opts ...rabbitmq.Option) *rabbitmq.Client {
	t.Helper()
	url := brokertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rabbitmq.Dial(ctx, url, append([]rabbitmq.Option{rabbitmq.WithName(name),
		rabbitmq.WithReconnect(50*time.Millisecond, time.Second, 0)}, opts...)...)
	if err != nil {
		t.Fatalf("cannot reach RabbitMQ: %v\nstart one with `make broker`", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
