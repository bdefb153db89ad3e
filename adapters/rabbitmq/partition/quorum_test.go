package partition

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	part "github.com/warren-mq/warren/partition"
)

// TestQuorumPartitions declares a layout of quorum partition queues (the
// transport gives quorum queues their dead-letter arguments, which the
// layout must not contradict) and checks that the partitions and their
// DLQs are quorum queues with single active consumer, and that messages
// of each key are handled in order.
func TestQuorumPartitions(t *testing.T) {
	exchange := brokertest.Name(t, "ex")
	layout := part.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic, Durable: true},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q"), Durable: true, Type: warren.Quorum},
		Partitions: 3,
	}
	var queues []string
	for _, q := range layout.QueueNames() {
		queues = append(queues, q, warren.DeadLetterQueue(q))
	}
	brokertest.DeleteQueues(t, append(queues, part.Roster(layout.Queue.Name))...)
	brokertest.DeleteExchanges(t, exchange, part.HashExchange(layout.Queue.Name))

	client := dialClient(t, brokertest.Name(t, "inst"))
	var mu sync.Mutex
	got := map[string][]int{}
	r := warren.NewRouter()
	r.HandleFunc("Order.*", func(_ context.Context, m *warren.Message) error {
		var n int
		if _, err := fmt.Sscan(string(m.Body), &n); err != nil {
			return warren.Permanent(err)
		}
		mu.Lock()
		defer mu.Unlock()
		got[m.RoutingKey] = append(got[m.RoutingKey], n)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := New(ctx, client, r, layout)
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

	listing := brokertest.Rabbitmqctl(t, "-q", "list_queues", "name", "type")
	for _, q := range layout.QueueNames() {
		for _, name := range []string{q, warren.DeadLetterQueue(q)} {
			if !strings.Contains(listing, name+"\tquorum") {
				t.Errorf("%s is not a quorum queue:\n%s", name, listing)
			}
		}
	}
	const keys, each = 6, 50
	pub := client.Publisher()
	for n := 0; n < each; n++ {
		for k := 0; k < keys; k++ {
			if err := pub.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: fmt.Sprintf("Order.k%d", k),
				Publishing: amqp.Publishing{Body: []byte(fmt.Sprint(n))}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	brokertest.Eventually(t, 30*time.Second, "every message handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, ns := range got {
			total += len(ns)
		}
		return total >= keys*each
	})
	mu.Lock()
	defer mu.Unlock()
	for key, ns := range got {
		for i, n := range ns {
			if n != i {
				t.Fatalf("%s handled out of order: %v", key, ns)
			}
		}
	}
}

// TestQuorumFleetSpreads starts two instances on a layout of quorum
// partition queues, one after the other, and checks that the rebalancer
// spreads the partitions (each holds its share). A quorum queue with single
// active consumer counts only the active consumer, so the fleet is counted
// on the roster queue instead.
func TestQuorumFleetSpreads(t *testing.T) {
	exchange := brokertest.Name(t, "ex")
	layout := part.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic, Durable: true},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q"), Durable: true, Type: warren.Quorum},
		Partitions: 4,
	}
	var queues []string
	for _, q := range layout.QueueNames() {
		queues = append(queues, q, warren.DeadLetterQueue(q))
	}
	brokertest.DeleteQueues(t, append(queues, part.Roster(layout.Queue.Name))...)
	brokertest.DeleteExchanges(t, exchange, part.HashExchange(layout.Queue.Name))

	ctx, cancel := context.WithCancel(context.Background())
	var fleet []*Consumer
	done := make(chan error, 2)
	defer func() {
		cancel()
		for range fleet {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()
	for i := 0; i < 2; i++ {
		r := warren.NewRouter()
		r.HandleFunc("Order.*", func(context.Context, *warren.Message) error { return nil })
		c, err := New(ctx, dialClient(t, brokertest.Name(t, fmt.Sprint("inst", i))), r, layout, Rebalance(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		fleet = append(fleet, c)
		go func() { done <- c.Run(ctx) }()
		if i == 0 {
			brokertest.Eventually(t, 10*time.Second, "the first instance holds every partition", func() bool { return c.Held() == 4 })
		}
	}
	brokertest.Eventually(t, 30*time.Second, "two partitions each", func() bool {
		return fleet[0].Held() == 2 && fleet[1].Held() == 2
	})
}
