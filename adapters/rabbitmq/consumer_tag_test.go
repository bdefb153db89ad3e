package rabbitmq

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestConsumerOnLongQueueName: a consumer tag travels as a short string of
// at most 255 bytes, and a queue name may take 255 by itself. A tag that
// spelled out the queue's name failed every basic.consume on the client's
// side ("shortstr exceeds 255 bytes"), and the consumer restarted forever
// without taking a message.
func TestConsumerOnLongQueueName(t *testing.T) {
	obs := &consumerEvents{}
	client := newTestClient(t, WithObserver(obs))
	name := brokertest.Name(t, "q")
	name += "." + strings.Repeat("x", 240-len(name)) // room for the .dlq and .replay queues
	brokertest.DeleteQueues(t, name, warren.DeadLetterQueue(name), deadletter.ReplayQueue(name))

	handled := make(chan string, 1)
	router := warren.NewRouter()
	router.HandleFunc("#", func(_ context.Context, m *warren.Message) error {
		handled <- string(m.Body)
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), router, Spec{Queue: warren.Queue{Name: name, Durable: true}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cons.tag); n > 255 {
		t.Errorf("consumer tag of %d bytes for a %d-byte queue name; a tag has at most 255", n, len(name))
	}
	runConsumer(t, cons)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	publishTo(t, ctx, client.Publisher(), "", name, "long-name", nil)
	select {
	case body := <-handled:
		if body != "long-name" {
			t.Fatalf("handled %q, want long-name", body)
		}
	case <-ctx.Done():
		t.Fatalf("nothing handled from a queue with a %d-byte name within 10 s (%d consumer restarts)", len(name), obs.count(ConsumerRestart))
	}
}

// TestConsumerTagFitsShortString: whatever the service's name, the tag is a
// valid short string (at most 255 bytes, valid UTF-8) that starts with as
// much of the name as fits, and two consumers never share one.
func TestConsumerTagFitsShortString(t *testing.T) {
	for _, name := range []string{"orders", "", strings.Repeat("n", 300), strings.Repeat("é", 200)} {
		a, b := consumerTag(name), consumerTag(name)
		switch {
		case len(a) > 255:
			t.Errorf("name of %d bytes: tag of %d bytes", len(name), len(a))
		case !utf8.ValidString(a):
			t.Errorf("name of %d bytes: tag %q is not valid UTF-8", len(name), a)
		case a == b:
			t.Errorf("name of %d bytes: two consumers got the same tag %q", len(name), a)
		}
		prefix, _, _ := strings.Cut(a, ".")
		if len(name) <= 200 && prefix != name {
			t.Errorf("name %q: tag %q does not start with the whole name", name, a)
		}
		if !strings.HasPrefix(name, prefix) {
			t.Errorf("name of %d bytes: tag %q does not start with the name", len(name), a)
		}
	}
}

// TestRequesterWithLongClientName: the requester's reply consumer has a
// tag too. Made from the service's name, it passed 255 bytes for a long
// name, and every request failed before it was sent.
func TestRequesterWithLongClientName(t *testing.T) {
	service := testService(t)
	serveRequests(t, service, pricing())
	name := brokertest.Name(t, "client") + "." + strings.Repeat("é", 120) // about 300 bytes, 240 of them in two-byte characters
	client := newTestClient(t, WithName(name))
	req := client.NewRequester()
	t.Cleanup(func() { _ = req.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reply, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{SKU: "a"})
	if err != nil {
		t.Fatalf("request from a client named with %d bytes: %v", len(name), err)
	}
	if reply.SKU != "a" {
		t.Fatalf("reply for sku %q, want a", reply.SKU)
	}
}
