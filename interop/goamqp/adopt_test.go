package goamqp

import (
	"context"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestPlainConsumerRefusesGoamqpQueue: a warren consumer declared the
// usual way, of the same service name as a goamqp one, cannot declare the
// queue goamqp declared (x-expires 432000000, no dead-letter arguments):
// NewConsumer fails with PRECONDITION_FAILED naming x-expires, and leaves
// the queue as it was. Sharing the queue takes WithAdoptQueue
// (adopt_migration_test.go) or goamqp's queue shape (shared_queue_test.go).
func TestPlainConsumerRefusesGoamqpQueue(t *testing.T) {
	nop := func(any, map[string]any) (any, error) { return nil, nil }
	cases := []struct {
		name    string
		queue   func(service string) string
		goamqp  func(p *Peer) error
		spec    func(service string) rabbitmq.Spec
		cleanup func(t *testing.T, service string)
	}{
		{
			name:   "event stream",
			queue:  func(s string) string { return EventQueue(EventExchange, s) },
			goamqp: func(p *Peer) error { return p.EventStreamConsumer("Order.Created", OrderCreated{}, nop) },
			spec:   rabbitmq.EventStream,
		},
		{
			name:   "requests",
			queue:  RequestQueue,
			goamqp: func(p *Peer) error { return p.RequestResponseHandler("Order.Created", OrderCreated{}, nop) },
			spec:   rabbitmq.Requests,
			cleanup: func(t *testing.T, s string) {
				deleteExchanges(t, RequestExchange(s), ResponseExchange(s))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			service := brokertest.Name(t, "svc")
			queue := tc.queue(service)
			deleteQueues(t, queue, warren.DeadLetterQueue(queue))
			if tc.cleanup != nil {
				tc.cleanup(t, service)
			}
			if err := tc.goamqp(dialPeer(t, service)); err != nil {
				t.Fatal(err)
			}

			r := warren.NewRouter()
			r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { return nil })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cons, err := dialWarren(t, service).NewConsumer(ctx, r, tc.spec(service))
			if err == nil {
				_ = cons.Shutdown(ctx)
				t.Fatal("NewConsumer declared over goamqp's queue without adopting it or taking its shape")
			}
			var te *rabbitmq.TopologyError
			if !errors.As(err, &te) || te.Kind != "queue" || te.Name != queue || te.Arg != "x-expires" {
				t.Fatalf("error %v: want a TopologyError on queue %s naming x-expires", err, queue)
			}
			var ae *amqp.Error
			if !errors.As(err, &ae) || ae.Code != amqp.PreconditionFailed {
				t.Fatalf("error %v: want PRECONDITION_FAILED (406)", err)
			}
			t.Logf("refused: %v", err)

			// goamqp's queue is as it was: goamqp's own declaration still
			// succeeds (rollback works).
			ch := brokertest.Channel(t)
			if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-expires": QueueExpires}); err != nil {
				t.Fatalf("goamqp's own redeclare after warren's refusal: %v", err)
			}
		})
	}
}
