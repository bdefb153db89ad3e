package rabbitmq

import (
	"context"
	"errors"
	"os/exec"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/retry"
)

// foreignQueue declares spec's work queue the way goamqp does (x-expires
// of five days, no dead-letter arguments), as another library would have.
func foreignQueue(t *testing.T, spec Spec) {
	t.Helper()
	ch := brokertest.Channel(t)
	if _, err := ch.QueueDeclare(spec.Queue.Name, true, false, false, false, amqp.Table{"x-expires": int32(432000000)}); err != nil {
		t.Fatal(err)
	}
}

// TestAdoptQueueDeclaredByAnotherLibrary: a queue another library declared
// with other arguments is refused by a normal consumer (PRECONDITION_FAILED
// naming the argument) and adopted as it is by WithAdoptQueue, which still
// binds every route and declares the DLQ and the wait queue.
func TestAdoptQueueDeclaredByAnotherLibrary(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t, time.Second)
	foreignQueue(t, spec)
	var created, updated atomic.Int32
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { created.Add(1); return nil })
	r.HandleFunc("Order.Updated", func(context.Context, *warren.Message) error { updated.Add(1); return nil })
	ctx := context.Background()

	_, err := client.NewConsumer(ctx, r, spec)
	var te *TopologyError
	if !errors.As(err, &te) || te.Name != spec.Queue.Name || te.Arg == "" {
		t.Fatalf("a normal consumer on the foreign queue: %v; want a TopologyError naming the queue and an argument", err)
	}

	cons, err := client.NewConsumer(ctx, r, spec, WithAdoptQueue(), WithRetry(retry.Delays(time.Second)))
	if err != nil {
		t.Fatalf("adopt: %v", err)
	}
	runConsumer(t, cons)
	for i := 0; i < 50; i++ {
		publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", "{}", nil)
		publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Updated", "{}", nil)
	}
	eventually(t, 10*time.Second, "every route's messages", func() bool { return created.Load() == 50 && updated.Load() == 50 })
	ch := brokertest.Channel(t)
	for _, q := range []string{warren.DeadLetterQueue(spec.Queue.Name), warren.WaitQueue(spec.Queue.Name, time.Second)} {
		if _, err := ch.QueueDeclarePassive(q, true, false, false, false, nil); err != nil {
			t.Errorf("%s not declared: %v", q, err)
			ch = brokertest.Channel(t)
		}
	}
	// The queue kept its own arguments: declaring it again the other
	// library's way still works.
	foreignQueue(t, spec)
}

// TestAdoptMissingQueueFailsAtOnce: an adopted queue that does not exist
// is an error from NewConsumer, naming the queue.
func TestAdoptMissingQueueFailsAtOnce(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	_, err := client.NewConsumer(context.Background(), warren.NewRouter(), spec, WithAdoptQueue())
	var te *TopologyError
	var ae *amqp.Error
	if !errors.As(err, &te) || te.Name != spec.Queue.Name || !errors.As(err, &ae) || ae.Code != amqp.NotFound {
		t.Fatalf("adopting a missing queue: %v; want a TopologyError for the queue with NOT_FOUND", err)
	}
}

// TestNoDeadLetterExchangeNeverDrops: on a queue without a dead-letter
// exchange (adopted, or consumed WithSkipDeclare) a permanent failure whose
// dead-letter copy the broker refuses must not be nacked without requeue
// (the broker would drop it): it is requeued after a pause, reported, and
// dead-lettered with warren's headers once the DLQ takes it again. The DLQ
// refuses through a policy (max-length 0, reject-publish) on its name.
func TestNoDeadLetterExchangeNeverDrops(t *testing.T) {
	for _, mode := range []struct {
		name string
		opt  ConsumerOption
	}{{"adopt", WithAdoptQueue()}, {"skip-declare", WithSkipDeclare()}} {
		t.Run(mode.name, func(t *testing.T) {
			obs := &consumerEvents{}
			client := newTestClient(t, WithObserver(obs))
			spec := testSpec(t)
			foreignQueue(t, spec)
			dlq := warren.DeadLetterQueue(spec.Queue.Name)
			ch := brokertest.Channel(t)
			if _, err := ch.QueueDeclare(dlq, true, false, false, false, nil); err != nil {
				t.Fatal(err)
			}
			if err := ch.ExchangeDeclare(spec.Exchange.Name, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
				t.Fatal(err)
			}
			if err := ch.QueueBind(spec.Queue.Name, "bad", spec.Exchange.Name, false, nil); err != nil {
				t.Fatal(err)
			}
			policy := refuseQueue(t, dlq)

			var calls atomic.Int32
			r := warren.NewRouter()
			r.HandleFunc("bad", func(context.Context, *warren.Message) error {
				calls.Add(1)
				return warren.Permanent(errors.New("bad"))
			})
			cons, err := client.NewConsumer(context.Background(), r, spec, mode.opt)
			if err != nil {
				t.Fatal(err)
			}
			runConsumer(t, cons)
			publishTo(t, context.Background(), client.Publisher(), spec.Exchange.Name, "bad", "{}", nil)
			eventually(t, 10*time.Second, "two refused copies, requeued", func() bool {
				return calls.Load() >= 2 && obs.count(ConsumerSettleRequeued) >= 2
			})
			policy.clear()
			eventually(t, 10*time.Second, "the dead letter", func() bool { return depth(t, ch, dlq) == 1 })
			d := drain(t, ch, dlq)[0]
			if d.Headers[warren.HeaderReason] != warren.ReasonPermanent {
				t.Errorf("dead letter without warren's reason: %v", d.Headers)
			}
			t.Logf("handled %d times while the DLQ refused, %d requeues reported", calls.Load(), obs.count(ConsumerSettleRequeued))
		})
	}
}

// refusal is a policy that makes a queue refuse every publish.
type refusal struct {
	t    *testing.T
	name string
	done atomic.Bool
}

// refuseQueue applies a policy to queue (its name only) that makes the
// broker nack every publish to it: max-length 0 with reject-publish. It is
// cleared in Cleanup if the test did not clear it.
func refuseQueue(t *testing.T, queue string) *refusal {
	t.Helper()
	p := &refusal{t: t, name: brokertest.Name(t, "refuse")}
	brokertest.Rabbitmqctl(t, "set_policy", "--apply-to", "queues", "--priority", "100", p.name,
		"^"+regexp.QuoteMeta(queue)+"$", `{"max-length":0,"overflow":"reject-publish"}`)
	t.Cleanup(func() {
		if !p.done.Load() {
			_ = exec.Command("rabbitmqctl", "clear_policy", p.name).Run()
		}
	})
	return p
}

func (p *refusal) clear() {
	p.t.Helper()
	p.done.Store(true)
	brokertest.Rabbitmqctl(p.t, "clear_policy", p.name)
}

// TestDeclareBindsExchanges: Topology.ExchangeBindings are declared
// (exchange.bind), so what the source routes reaches the destination's
// queues; declaring again (as a consumer does on every restart) keeps it.
func TestDeclareBindsExchanges(t *testing.T) {
	client := newTestClient(t)
	src, dst := brokertest.Name(t, "src"), brokertest.Name(t, "dst")
	q := brokertest.Name(t, "q")
	brokertest.DeleteQueues(t, q)
	brokertest.DeleteExchanges(t, src, dst)
	topo := warren.Topology{
		Exchanges:        []warren.Exchange{{Name: src, Kind: warren.KindTopic}, {Name: dst, Kind: warren.KindFanout}},
		Queues:           []warren.Queue{{Name: q}},
		Bindings:         []warren.Binding{{Exchange: dst, Queue: q}},
		ExchangeBindings: []warren.ExchangeBinding{{Source: src, Destination: dst, Key: "Order.*"}},
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := client.Declare(ctx, topo); err != nil {
			t.Fatal(err)
		}
	}
	publishTo(t, ctx, client.Publisher(), src, "Order.Created", "{}", nil)
	publishTo(t, ctx, client.Publisher(), src, "Invoice.Created", "{}", nil)
	ch := brokertest.Channel(t)
	eventually(t, 5*time.Second, "the bound key in the queue", func() bool { return depth(t, ch, q) == 1 })
	if d := drain(t, ch, q); len(d) != 1 || d[0].RoutingKey != "Order.Created" {
		t.Errorf("queue got %d messages; want only Order.Created", len(d))
	}
}
