package partition

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	part "github.com/warren-mq/warren/partition"
)

// TestLayoutComesBackAfterConnectionLoss deletes the exchange-to-exchange
// binding that feeds the partitions and one hash-exchange binding, closes
// the instance's consuming connection from the broker, and checks that
// both bindings are back once it recovered, and that a message published
// to the topic exchange is handled again. The partition consumers
// re-declare only their queues; without the watch's re-declaration the
// stream never reaches the partitions again.
func TestLayoutComesBackAfterConnectionLoss(t *testing.T) {
	exchange := brokertest.Name(t, "ex")
	layout := part.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q")},
		Partitions: 2,
	}
	var queues []string
	for _, q := range layout.QueueNames() {
		queues = append(queues, q, warren.DeadLetterQueue(q))
	}
	brokertest.DeleteQueues(t, append(queues, part.Roster(layout.Queue.Name))...)
	hash := part.HashExchange(layout.Queue.Name)
	brokertest.DeleteExchanges(t, exchange, hash)

	name := brokertest.Name(t, "inst")
	client := dialClient(t, name)
	var handled atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { handled.Add(1); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	c, err := New(ctx, client, r, layout, Rebalance(0))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	brokertest.Eventually(t, 10*time.Second, "the first declaration by Run", func() bool { return c.redeclared.Load() >= 1 })

	pub := dialClient(t, brokertest.Name(t, "pub")).Publisher()
	// Eight keys, so that both partitions are very likely used; all eight
	// must arrive.
	publishUntilHandled := func(what string) {
		t.Helper()
		before := handled.Load()
		for k := 0; k < 8; k++ {
			if err := pub.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: "Order.k" + string(rune('a'+k)),
				Publishing: amqp.Publishing{Body: []byte("x")}}); err != nil {
				t.Fatal(err)
			}
		}
		brokertest.Eventually(t, 30*time.Second, what, func() bool { return handled.Load() >= before+8 })
	}
	publishUntilHandled("messages handled before the loss")

	ch := brokertest.Channel(t)
	if err := ch.ExchangeUnbind(hash, "Order.*", exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	p1 := part.Queue(layout.Queue.Name, 1)
	if err := ch.QueueUnbind(p1, part.Weight, hash, nil); err != nil {
		t.Fatal(err)
	}
	e2e := exchange + "\t" + hash + "\tOrder.*"
	weighted := hash + "\t" + p1 + "\t" + part.Weight
	if b := bindings(t); strings.Contains(b, e2e) || strings.Contains(b, weighted) {
		t.Fatalf("bindings still there after unbind:\n%s", b)
	}
	declared := c.redeclared.Load()
	if n := brokertest.CloseConnections(t, name+".consume", "partition test: connection lost"); n != 1 {
		t.Fatalf("closed %d connections, want 1", n)
	}
	brokertest.Eventually(t, 30*time.Second, "the layout declared again after the loss", func() bool {
		return c.redeclared.Load() > declared
	})
	b := bindings(t)
	if !strings.Contains(b, e2e) {
		t.Errorf("exchange binding %q not back after recovery:\n%s", e2e, b)
	}
	if !strings.Contains(b, weighted) {
		t.Errorf("hash binding %q not back after recovery:\n%s", weighted, b)
	}
	publishUntilHandled("messages handled after the recovery")
}

// bindings lists the default vhost's bindings as "source\tdestination\tkey" lines.
func bindings(t *testing.T) string {
	return brokertest.Rabbitmqctl(t, "-q", "list_bindings", "source_name", "destination_name", "routing_key")
}
