package rabbitmq

import (
	"context"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestReturnMatchesItsOwnPublish is defect 1 of issue 11: two mandatory
// publishes with one message id in flight on one confirm channel, the
// first routable, the second not. The broker's basic.return must mark the
// second only (warren's retry and dead-letter copies keep the original's
// message id, so ids are not unique on a channel).
func TestReturnMatchesItsOwnPublish(t *testing.T) {
	client := newTestClient(t, WithPublishChannels(1))
	ch := brokertest.Channel(t)
	q, err := ch.QueueDeclare(brokertest.Name(t, "q"), false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueues(t, q.Name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for round := range 10 {
		msg := amqp.Publishing{MessageId: "same-id", Body: []byte("x")}
		routed, err := client.Publisher().PublishDeferred(ctx, &warren.Publishing{RoutingKey: q.Name, Mandatory: true, Publishing: msg})
		if err != nil {
			t.Fatal(err)
		}
		lost, err := client.Publisher().PublishDeferred(ctx, &warren.Publishing{RoutingKey: q.Name + ".missing", Mandatory: true, Publishing: msg})
		if err != nil {
			t.Fatal(err)
		}
		if err := routed.Wait(ctx); err != nil {
			t.Errorf("round %d: the routed publish: %v, want nil", round, err)
		}
		if err := lost.Wait(ctx); !errors.Is(err, warren.ErrUnroutable) {
			t.Errorf("round %d: the unroutable publish: %v, want ErrUnroutable", round, err)
		}
	}
	if d := depth(t, ch, q.Name); d != 10 {
		t.Errorf("queue holds %d, want the 10 routed", d)
	}
}
