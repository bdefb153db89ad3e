package rabbitmq

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestLibraryRecoveryReusesDeliveryTags is the evidence behind warren's own
// recovery loop (docs/ARCHITECTURE.md, "Recovery"). With amqp091-go's
// built-in Config.Recovery, the *Channel a delivery came from survives the
// reconnect and its delivery tags start again at 1, so an ack for a tag
// delivered before the loss is accepted and lands on a different message
// of the new channel. warren's coalesced acks would then settle messages
// no handler has seen. If this test starts failing, the library guards
// stale tags and the decision deserves another look.
func TestLibraryRecoveryReusesDeliveryTags(t *testing.T) {
	url := brokertest.Require(t)
	admin := brokertest.Channel(t)
	queue := fillQueue(t, admin, 2)

	name := brokertest.Name(t, "lib-recovery")
	conn, err := amqp.DialConfig(url, amqp.Config{
		Properties: amqp.Table{"connection_name": name},
		Recovery: &amqp.Recovery{
			ReconnectionConfig: &amqp.ReconnectionConfig{MaxRetryCount: 100, RetryInterval: 100 * time.Millisecond},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(1, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := <-deliveries
	if closeConnections(t, name, "library recovery evidence") == 0 {
		t.Fatal("found no connection to close")
	}
	var after amqp.Delivery
	select {
	case d, ok := <-deliveries:
		if !ok {
			t.Fatal("the library closed the deliveries instead of recovering the consumer")
		}
		after = d
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery after the library's recovery")
	}
	if after.DeliveryTag != before.DeliveryTag {
		t.Fatalf("tags after recovery start at %d, not at %d: the hazard is gone", after.DeliveryTag, before.DeliveryTag)
	}
	// The stale ack is accepted and settles the new delivery, which no
	// handler has seen.
	if err := before.Ack(false); err != nil {
		t.Fatalf("stale ack refused (%v): the library guards stale tags now", err)
	}
	eventually(t, 5*time.Second, "the unseen delivery to be settled by the stale ack", func() bool {
		return depth(t, admin, queue) == 0
	})
	t.Logf("tag %d before the loss (body %s) acked tag %d after it (body %s)",
		before.DeliveryTag, before.Body, after.DeliveryTag, after.Body)
}
