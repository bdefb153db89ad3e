package warren_test

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/transport"
)

func TestDeliveryTagFilledClonedAndReset(t *testing.T) {
	hooks := transport.Get[*warren.Message]()
	m := hooks.Acquire()
	hooks.FromDelivery(m, &amqp.Delivery{RoutingKey: "k", DeliveryTag: 42}, "q")
	if m.DeliveryTag != 42 {
		t.Fatalf("DeliveryTag %d after FromDelivery, want 42", m.DeliveryTag)
	}
	if c := m.Clone(); c.DeliveryTag != 42 {
		t.Fatalf("Clone lost the delivery tag: %d", c.DeliveryTag)
	}
	hooks.Release(m)
	for i := 0; i < 10; i++ {
		n := hooks.Acquire()
		if n.DeliveryTag != 0 {
			t.Fatalf("pooled message keeps delivery tag %d", n.DeliveryTag)
		}
		hooks.Release(n)
	}
}
