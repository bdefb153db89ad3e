package rabbitmq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestTooLongKeyIsRefusedBeforeTheWire: a routing key over MaxKeyLength is
// ErrKeyTooLong from Publish, PublishDeferred and Request, and the client's
// connection lives on (amqp091-go would write the frame and the broker
// close the connection).
func TestTooLongKeyIsRefusedBeforeTheWire(t *testing.T) {
	client := newTestClient(t)
	q := brokertest.Name(t, "q")
	ch := brokertest.Channel(t)
	if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueues(t, q)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, genBefore, err := client.publish.current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", warren.MaxKeyLength+1)
	pub := client.Publisher()
	if err := pub.Publish(ctx, &warren.Publishing{RoutingKey: long}); !errors.Is(err, warren.ErrKeyTooLong) {
		t.Errorf("Publish with a %d-byte key: %v, want ErrKeyTooLong", len(long), err)
	}
	if _, err := pub.PublishDeferred(ctx, &warren.Publishing{RoutingKey: long}); !errors.Is(err, warren.ErrKeyTooLong) {
		t.Errorf("PublishDeferred with a %d-byte key: %v, want ErrKeyTooLong", len(long), err)
	}
	if _, err := client.NewRequester().Request(ctx, "svc", long, amqp.Publishing{}); !errors.Is(err, warren.ErrKeyTooLong) {
		t.Errorf("Request with a %d-byte route: %v, want ErrKeyTooLong", len(long), err)
	}
	// The connection is still the one it was: the next publish goes out
	// without a reconnect.
	if err := pub.Publish(ctx, &warren.Publishing{RoutingKey: q, Publishing: amqp.Publishing{Body: []byte("x")}}); err != nil {
		t.Fatalf("publish after the refused ones: %v", err)
	}
	if _, gen, err := client.publish.current(ctx); err != nil || gen != genBefore {
		t.Errorf("publish connection generation %d -> %d (%v): it was lost", genBefore, gen, err)
	}
}
