package goamqp

import (
	"context"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	compat "github.com/warren-mq/warren/compat/goamqp"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestGoamqpQueueShapeSharedBothWays: with goamqp's queue shape
// (compat.EventStream / compat.Requests, rabbitmq.WithoutDeadLetterExchange)
// warren and goamqp replicas of one service declare the same queue in
// either order, so a deploy can roll forward and back; a permanent failure
// handled by warren still ends in the .dlq with warren's headers.
func TestGoamqpQueueShapeSharedBothWays(t *testing.T) {
	nop := func(any, map[string]any) (any, error) { return nil, nil }
	cases := []struct {
		name   string
		queue  func(service string) string
		key    string
		goamqp func(p *Peer) error
		spec   func(service string) rabbitmq.Spec
		extra  func(service string) []string // exchanges to delete
	}{
		{
			name:   "event stream",
			queue:  func(s string) string { return EventQueue(EventExchange, s) },
			goamqp: func(p *Peer) error { return p.EventStreamConsumer("Order.Created", OrderCreated{}, nop) },
			spec:   compat.EventStream,
			extra:  func(string) []string { return nil },
		},
		{
			name:   "requests",
			queue:  RequestQueue,
			goamqp: func(p *Peer) error { return p.RequestResponseHandler("Order.Created", OrderCreated{}, nop) },
			spec:   compat.Requests,
			extra:  func(s string) []string { return []string{RequestExchange(s), ResponseExchange(s)} },
		},
	}
	for _, tc := range cases {
		for _, warrenFirst := range []bool{false, true} {
			name := tc.name + "/goamqp-first"
			if warrenFirst {
				name = tc.name + "/warren-first"
			}
			t.Run(name, func(t *testing.T) {
				service := brokertest.Name(t, "svc")
				queue := tc.queue(service)
				deleteQueues(t, queue, warren.DeadLetterQueue(queue))
				deleteExchanges(t, tc.extra(service)...)
				var failed = make(chan struct{}, 1)
				r := warren.NewRouter()
				r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error {
					select {
					case failed <- struct{}{}:
					default:
					}
					return warren.Permanent(errors.New("broken"))
				})
				client := dialWarren(t, "wr-"+service)
				newWarren := func() *rabbitmq.Consumer {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					cons, err := client.NewConsumer(ctx, r, tc.spec(service), rabbitmq.WithoutDeadLetterExchange())
					if err != nil {
						t.Fatalf("warren declares goamqp's queue shape: %v", err)
					}
					return cons
				}
				var cons *rabbitmq.Consumer
				if warrenFirst {
					cons = newWarren()
				}
				if err := tc.goamqp(dialPeer(t, service)); err != nil {
					t.Fatalf("goamqp declares the queue warren shaped: %v", err)
				}
				if !warrenFirst {
					cons = newWarren()
				}
				// A rollback: goamqp declares it once more.
				if err := tc.goamqp(dialPeer(t, service)); err != nil {
					t.Fatalf("goamqp declares it again: %v", err)
				}
				runConsumer(t, cons)
				exchange := tc.spec(service).Exchange.Name
				pub := client.Publisher()
				ch := brokertest.Channel(t)
				dlq := warren.DeadLetterQueue(queue)
				// goamqp's replicas consume the queue too; publish until
				// warren's replica has taken (and dead-lettered) one.
				brokertest.Eventually(t, 20*time.Second, "a dead letter from warren's replica", func() bool {
					if err := pub.Publish(context.Background(), &warren.Publishing{Exchange: exchange, RoutingKey: "Order.Created",
						Publishing: jsonPublishing(`{"id":1}`)}); err != nil {
						t.Fatal(err)
					}
					return brokertest.Depth(t, ch, dlq) > 0
				})
				d := brokertest.Drain(t, ch, dlq)[0]
				if d.Headers[warren.HeaderReason] != warren.ReasonPermanent {
					t.Errorf("dead letter without warren's reason: %v", d.Headers)
				}
			})
		}
	}
}

func jsonPublishing(body string) amqp.Publishing {
	return amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: []byte(body)}
}
