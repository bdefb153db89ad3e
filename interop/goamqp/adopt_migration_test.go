package goamqp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// adoptQueue is the consumer option of adopt mode.
func adoptQueue() rabbitmq.ConsumerOption { return rabbitmq.WithAdoptQueue() }

// adoptedConsumer runs a warren consumer of service's event queue in adopt
// mode; the .dlq and wait queues it declares are deleted when t ends.
func adoptedConsumer(t *testing.T, service string, r *warren.Router, opts ...rabbitmq.ConsumerOption) *rabbitmq.Consumer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cons, err := dialWarren(t, "wr-"+service).NewConsumer(ctx, r, rabbitmq.EventStream(service), append(opts, adoptQueue())...)
	if err != nil {
		t.Fatalf("adopt goamqp's queue: %v", err)
	}
	runConsumer(t, cons)
	return cons
}

// TestAdoptGoamqpQueue: warren adopts the queue goamqp declared: its
// arguments stay (goamqp declares it again), a route goamqp never bound
// gets its binding, and a permanent failure lands in the .dlq by
// confirmed republish (the queue has no dead-letter exchange).
func TestAdoptGoamqpQueue(t *testing.T) {
	service := brokertest.Name(t, "svc")
	queue := EventQueue(EventExchange, service)
	deleteQueues(t, queue, warren.DeadLetterQueue(queue))
	run := brokertest.Name(t, "run")

	peer := dialPeer(t, service)
	if err := peer.EventStreamConsumer("Order.Created", OrderCreated{}, func(any, map[string]any) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	updated := 0
	r := warren.NewRouter()
	r.Handle("Order.Created", warren.Typed(func(_ context.Context, e OrderCreated) error {
		if e.Run == run && e.ID == 13 {
			return warren.Permanent(errors.New("order 13 is broken"))
		}
		return nil
	}))
	r.Handle("Order.Updated", warren.Typed(func(_ context.Context, e OrderUpdated) error {
		if e.Run == run {
			mu.Lock()
			updated++
			mu.Unlock()
		}
		return nil
	}))
	adoptedConsumer(t, service, r)

	ch := brokertest.Channel(t)
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-expires": QueueExpires}); err != nil {
		t.Fatalf("goamqp's declaration after warren adopted the queue: %v", err)
	}
	pub, err := dialPeer(t, brokertest.Name(t, "gq-pub")).EventStreamPublisher(orderRoutes)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		if err := pub.Publish(context.Background(), OrderUpdated{Run: run, ID: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish(context.Background(), OrderCreated{Run: run, ID: 13}); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 30*time.Second, "every Order.Updated handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return updated == n
	})
	dlq := warren.DeadLetterQueue(queue)
	brokertest.Eventually(t, 30*time.Second, "the permanent failure in the .dlq", func() bool {
		return brokertest.Depth(t, ch, dlq) == 1
	})
}

// TestAdoptMissingQueueFailsAtOnce: adopting a queue that does not exist
// is an error from NewConsumer (a passive declare), not a consumer that
// retries in the background.
func TestAdoptMissingQueueFailsAtOnce(t *testing.T) {
	service := brokertest.Name(t, "svc")
	deleteQueues(t, warren.DeadLetterQueue(EventQueue(EventExchange, service)))
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := dialWarren(t, "wr-"+service).NewConsumer(ctx, r, rabbitmq.EventStream(service), adoptQueue())
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Code != amqp.NotFound {
		t.Fatalf("adopting a missing queue: %v, want NOT_FOUND from NewConsumer", err)
	}
}

type settleRequeues struct {
	warren.NopObserver
	mu sync.Mutex
	n  int
}

func (o *settleRequeues) ObserveConsumer(e rabbitmq.ConsumerEvent) {
	if e.Kind == rabbitmq.ConsumerSettleRequeued {
		o.mu.Lock()
		o.n++
		o.mu.Unlock()
	}
}

func (o *settleRequeues) count() int { o.mu.Lock(); defer o.mu.Unlock(); return o.n }

// TestAdoptNeverDropsAPermanentFailure: on an adopted queue (no DLX) a
// permanent failure whose .dlq is gone is requeued and reported, never
// nacked into nothing; once the .dlq is back it lands there.
func TestAdoptNeverDropsAPermanentFailure(t *testing.T) {
	service := brokertest.Name(t, "svc")
	queue := EventQueue(EventExchange, service)
	dlq := warren.DeadLetterQueue(queue)
	deleteQueues(t, queue, dlq)
	run := brokertest.Name(t, "run")
	if err := dialPeer(t, service).EventStreamConsumer("Order.Created", OrderCreated{}, func(any, map[string]any) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	r := warren.NewRouter()
	r.Handle("Order.Created", warren.Typed(func(_ context.Context, e OrderCreated) error {
		if e.Run == run {
			return warren.Permanent(errors.New("broken"))
		}
		return nil
	}))
	obs := &settleRequeues{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, brokertest.Require(t), rabbitmq.WithName("wr-"+service), rabbitmq.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	cons, err := client.NewConsumer(ctx, r, rabbitmq.EventStream(service), adoptQueue())
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)

	ch := brokertest.Channel(t)
	if _, err := ch.QueueDelete(dlq, false, false, false); err != nil {
		t.Fatal(err)
	}
	pub, err := dialPeer(t, brokertest.Name(t, "gq-pub")).EventStreamPublisher(orderRoutes)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, OrderCreated{Run: run, ID: 1}); err != nil {
		t.Fatal(err)
	}
	// Adopt mode may declare the .dlq again when the copy is unroutable;
	// either way the message is never dropped: it is requeued (and
	// reported) or it is in the .dlq.
	brokertest.Eventually(t, 30*time.Second, "the failure requeued and reported, or in the .dlq", func() bool {
		_, err := ch.QueueDeclarePassive(dlq, true, false, false, false, nil)
		if err != nil {
			ch = brokertest.Channel(t)
			return obs.count() > 0
		}
		return brokertest.Depth(t, ch, dlq) == 1
	})
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 30*time.Second, "the failure in the restored .dlq", func() bool {
		return brokertest.Depth(t, ch, dlq) == 1
	})
}

// TestRollingMigrationFromGoamqp is issue 14's rolling migration: a
// service of two goamqp replicas with a backlog of 5,000 messages; one
// replica replaced by warren (adopt mode), then the other, then one rolled
// back to goamqp, while a publisher keeps publishing and 1% of messages
// fail permanently. Every confirmed message ends handled or in the .dlq.
func TestRollingMigrationFromGoamqp(t *testing.T) {
	service := brokertest.Name(t, "svc")
	queue := EventQueue(EventExchange, service)
	dlq := warren.DeadLetterQueue(queue)
	deleteQueues(t, queue, dlq)
	run := brokertest.Name(t, "run")
	failing := func(id int) bool { return id%100 == 42 }

	var mu sync.Mutex
	handled := map[int]bool{}
	mark := func(id int) {
		mu.Lock()
		handled[id] = true
		mu.Unlock()
	}
	goamqpReplica := func() *Peer {
		p, err := Dial(brokertest.Require(t), service)
		if err != nil {
			t.Fatal(err)
		}
		err = p.EventStreamConsumer("Order.Created", OrderCreated{}, func(msg any, _ map[string]any) (any, error) {
			e := msg.(*OrderCreated)
			if e.Run != run {
				return nil, nil
			}
			if failing(e.ID) {
				return nil, errors.New("broken") // goamqp: requeued
			}
			mark(e.ID)
			return nil, nil
		})
		if err == nil {
			err = p.Start()
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	warrenReplica := func() (stop func()) {
		r := warren.NewRouter()
		r.Handle("Order.Created", warren.Typed(func(_ context.Context, e OrderCreated) error {
			if e.Run != run {
				return nil
			}
			if failing(e.ID) {
				return warren.Permanent(errors.New("broken"))
			}
			mark(e.ID)
			return nil
		}))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		client, err := rabbitmq.Dial(ctx, brokertest.Require(t), rabbitmq.WithName(fmt.Sprintf("wr-%s-%d", service, time.Now().UnixNano())))
		if err != nil {
			t.Fatal(err)
		}
		cons, err := client.NewConsumer(ctx, r, rabbitmq.EventStream(service), adoptQueue())
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range cons.Topology().Queues {
			deleteQueues(t, q.Name)
		}
		runCtx, stopRun := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- cons.Run(runCtx) }()
		return func() { stopRun(); <-done; _ = client.Close() }
	}

	// The backlog, before any replica runs.
	a := dialPeer(t, service)
	if err := a.EventStreamConsumer("Order.Created", OrderCreated{}, func(any, map[string]any) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	pub, err := dialPeer(t, brokertest.Name(t, "gq-pub")).EventStreamPublisher(orderRoutes)
	if err != nil {
		t.Fatal(err)
	}
	const backlog, extra = 5000, 5000
	for i := range backlog {
		if err := pub.Publish(context.Background(), OrderCreated{Run: run, ID: i}); err != nil {
			t.Fatal(err)
		}
	}
	publishing := make(chan error, 1)
	go func() {
		for i := backlog; i < backlog+extra; i++ {
			if err := pub.Publish(context.Background(), OrderCreated{Run: run, ID: i}); err != nil {
				publishing <- err
				return
			}
		}
		publishing <- nil
	}()

	g1, g2 := goamqpReplica(), goamqpReplica()
	time.Sleep(time.Second) // steps of the deploy, not assertions
	_ = g1.Close()
	w1 := warrenReplica()
	time.Sleep(time.Second)
	_ = g2.Close()
	w2 := warrenReplica()
	time.Sleep(time.Second)
	w1()
	g3 := goamqpReplica() // rollback of one replica
	defer func() { _ = g3.Close() }()
	defer w2()
	if err := <-publishing; err != nil {
		t.Fatal(err)
	}

	ch := brokertest.Channel(t)
	total := backlog + extra
	brokertest.Eventually(t, 120*time.Second, "every message handled or dead-lettered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)+brokertest.Depth(t, ch, dlq) >= total
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range total {
		if !failing(i) && !handled[i] {
			t.Errorf("message %d neither handled nor dead-lettered", i)
		}
	}
	if got, want := brokertest.Depth(t, ch, dlq), total/100; got < want {
		t.Fatalf(".dlq holds %d, want at least the %d permanent failures", got, want)
	}
}

// TestAdoptNeverDropsAnOversizeDeadLetter: a permanent failure whose own
// headers leave no room in a frame for warren's dead-letter headers
// (errHeadersTooLarge in adapters/rabbitmq) was nacked without requeue,
// and goamqp's queue has no dead-letter exchange: it was dropped. On an
// adopted queue it ends in the .dlq: a copy with warren's headers and the
// body, the message's own headers left out and counted.
func TestAdoptNeverDropsAnOversizeDeadLetter(t *testing.T) {
	service := brokertest.Name(t, "svc")
	queue := EventQueue(EventExchange, service)
	dlq := warren.DeadLetterQueue(queue)
	deleteQueues(t, queue, dlq)
	if err := dialPeer(t, service).EventStreamConsumer("Order.Created", OrderCreated{}, func(any, map[string]any) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error {
		return warren.Permanent(errors.New("broken"))
	})
	obs := &settleRequeues{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, brokertest.Require(t), rabbitmq.WithName("wr-"+service), rabbitmq.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	cons, err := client.NewConsumer(ctx, r, rabbitmq.EventStream(service), adoptQueue())
	if err != nil {
		t.Fatal(err)
	}
	ch := brokertest.Channel(t)
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, nil); err != nil {
		t.Fatal(err) // present whatever adopt mode declares
	}
	big := make([]byte, 126<<10) // fits the publish's frame, not warren's copy
	for i := range big {
		big[i] = 'x'
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	conf, err := ch.PublishWithDeferredConfirm(EventExchange, "Order.Created", true, false, amqp.Publishing{
		ContentType: "application/json", Body: []byte(`{"id":1}`),
		Headers: amqp.Table{HeaderService: "gq-pub", "x-big": string(big)},
	})
	if err != nil || !conf.Wait() {
		t.Fatalf("publish: %v", err)
	}
	runConsumer(t, cons)
	brokertest.Eventually(t, 30*time.Second, "the oversize failure in the .dlq", func() bool {
		return brokertest.Depth(t, ch, dlq) == 1
	})
	d := brokertest.Drain(t, ch, dlq)[0]
	if d.Headers[warren.HeaderReason] != warren.ReasonPermanent || d.Headers[warren.HeaderHeadersDropped] != int64(2) ||
		d.Headers["x-big"] != nil || string(d.Body) != `{"id":1}` {
		t.Errorf("dead letter: body %q, reason %v, headers dropped %v, x-big kept %v; want the body, %q, 2 (x-big and service), false",
			d.Body, d.Headers[warren.HeaderReason], d.Headers[warren.HeaderHeadersDropped], d.Headers["x-big"] != nil, warren.ReasonPermanent)
	}
	if n := obs.count(); n != 0 {
		t.Errorf("%d settle requeues: the copy should have gone at once", n)
	}
}
