package warren_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

func TestPublishRefusesAKeyAMQPCannotCarry(t *testing.T) {
	var published []string
	ctx := warren.ContextWithPublisher(context.Background(), warren.PublisherFunc(
		func(_ context.Context, p *warren.Publishing) error {
			published = append(published, p.RoutingKey)
			return nil
		}))

	longest := strings.Repeat("k", warren.MaxKeyLength)
	if err := warren.Publish(ctx, &warren.Publishing{RoutingKey: longest}); err != nil {
		t.Fatalf("a key of exactly MaxKeyLength bytes: %v", err)
	}
	err := warren.Publish(ctx, &warren.Publishing{RoutingKey: longest + "k"})
	if !errors.Is(err, warren.ErrKeyTooLong) {
		t.Fatalf("a key of MaxKeyLength+1 bytes: err = %v, want ErrKeyTooLong", err)
	}
	msg := &warren.Message{ReplyTo: longest + "q", CorrelationID: "c"}
	if err := warren.Reply(ctx, msg, amqp.Publishing{}); !errors.Is(err, warren.ErrKeyTooLong) {
		t.Fatalf("a reply to a queue name of MaxKeyLength+1 bytes: err = %v, want ErrKeyTooLong", err)
	}
	if len(published) != 1 {
		t.Fatalf("the publisher saw %d publishes, want only the one with a valid key", len(published))
	}
}
