package partition

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

func TestTopologyShape(t *testing.T) {
	l := Stream("orders", "billing", 3)
	l.Hash = HashHeader("customer")
	top, err := l.Topology([]string{"Order.*", "Refund.#"}, []time.Duration{time.Second})
	if err != nil {
		t.Fatal(err)
	}
	base := "orders.topic.exchange.queue.billing"
	if len(top.Exchanges) != 2 || top.Exchanges[1].Name != base+".hash.exchange" ||
		top.Exchanges[1].Kind != warren.KindConsistentHash || top.Exchanges[1].Args["hash-header"] != "customer" {
		t.Fatalf("exchanges: %+v", top.Exchanges)
	}
	if eb := top.ExchangeBindings; len(eb) != 2 || eb[0].Source != "orders.topic.exchange" ||
		eb[0].Destination != base+".hash.exchange" || eb[0].Key != "Order.*" {
		t.Fatalf("exchange bindings: %+v", top.ExchangeBindings)
	}
	if len(top.Bindings) != 3 {
		t.Fatalf("bindings: %+v", top.Bindings)
	}
	for i, b := range top.Bindings {
		if b.Queue != Queue(base, i) || b.Key != Weight || b.Exchange != base+".hash.exchange" {
			t.Fatalf("binding %d: %+v", i, b)
		}
	}
	names := map[string]amqp.Table{}
	for _, q := range top.Queues {
		names[q.Name] = q.Args
	}
	for i := 0; i < 3; i++ {
		p := Queue(base, i)
		if names[p]["x-single-active-consumer"] != true || names[p]["x-dead-letter-routing-key"] != p+".dlq" {
			t.Fatalf("partition %d args: %v", i, names[p])
		}
		if _, ok := names[p+".dlq"]; !ok {
			t.Fatalf("no DLQ for %s", p)
		}
		if names[p+".retry.1s"]["x-dead-letter-routing-key"] != p {
			t.Fatalf("wait queue of %s does not return to it: %v", p, names[p+".retry.1s"])
		}
	}
	roster := names[base+".fleet"]
	if roster == nil || roster["x-single-active-consumer"] != nil || roster["x-dead-letter-routing-key"] != Queue(base, 0)+".dlq" {
		t.Fatalf("roster queue: %v", roster)
	}
	if len(top.Queues) != 10 {
		t.Fatalf("%d queues, want 10", len(top.Queues))
	}
}

func TestValidate(t *testing.T) {
	for name, l := range map[string]Layout{
		"no partitions": Stream("s", "svc", 0),
		"no queue":      {Partitions: 2},
		"both hashes":   {Queue: warren.Queue{Name: "q"}, Partitions: 2, Hash: Hash{Header: "h", Property: "message_id"}},
		"bad property":  {Queue: warren.Queue{Name: "q"}, Partitions: 2, Hash: HashProperty("body")},
		"exclusive":     {Queue: warren.Queue{Name: "q", Exclusive: true}, Partitions: 2},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Stream("s", "svc", 2).Topology([]string{"a.#.b.c"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestKeySetsHeader(t *testing.T) {
	type order struct{ Customer string }
	k := KeyOf(func(o order) string { return o.Customer })
	var p amqp.Publishing
	k.Set(order{Customer: "c-42"})(&p)
	if p.Headers[DefaultKeyHeader] != "c-42" {
		t.Fatalf("headers %v", p.Headers)
	}
	if k.Hash() != HashHeader(DefaultKeyHeader) {
		t.Fatalf("hash %v", k.Hash())
	}
}
