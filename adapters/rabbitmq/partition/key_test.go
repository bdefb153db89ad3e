package partition

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	part "github.com/warren-mq/warren/partition"
)

type orderPlaced struct {
	Customer string
	N        int
}

// TestKeyHeaderPicksThePartition publishes typed messages under several
// routing keys with a partition key from the message: every message of one
// customer lands in one partition, in publish order, whatever its routing
// key.
func TestKeyHeaderPicksThePartition(t *testing.T) {
	exchange := brokertest.Name(t, "ex")
	byCustomer := part.KeyOf(func(o orderPlaced) string { return o.Customer })
	layout := part.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q")},
		Partitions: 4,
		Hash:       byCustomer.Hash(),
	}
	var queues []string
	for _, q := range layout.QueueNames() {
		queues = append(queues, q, warren.DeadLetterQueue(q))
	}
	brokertest.DeleteQueues(t, append(queues, part.Roster(layout.Queue.Name))...)
	brokertest.DeleteExchanges(t, exchange, part.HashExchange(layout.Queue.Name))

	client := dialClient(t, brokertest.Name(t, "inst"))
	var mu sync.Mutex
	got := map[string][]int{}             // customer -> N in handling order
	where := map[string]map[string]bool{} // customer -> partition queues
	r := warren.NewRouter()
	r.Handle("Order.#", warren.Typed(func(ctx context.Context, o orderPlaced) error {
		m := warren.MessageFromContext(ctx)
		mu.Lock()
		defer mu.Unlock()
		got[o.Customer] = append(got[o.Customer], o.N)
		if where[o.Customer] == nil {
			where[o.Customer] = map[string]bool{}
		}
		where[o.Customer][m.Queue] = true
		return nil
	}))
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

	pub, err := client.NewPublisher(ctx, layout.Exchange, rabbitmq.WithTypeKeys(rabbitmq.KeyFor[orderPlaced]("Order.Placed")))
	if err != nil {
		t.Fatal(err)
	}
	customers := []string{"ada", "bob", "cyd", "dee", "eve", "fay", "gus", "hal"}
	const each = 40
	for n := 0; n < each; n++ {
		for _, cu := range customers {
			o := orderPlaced{Customer: cu, N: n}
			if err := pub.Send(ctx, o, byCustomer.Set(o)); err != nil {
				t.Fatal(err)
			}
		}
	}
	brokertest.Eventually(t, 30*time.Second, "every order handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, ns := range got {
			total += len(ns)
		}
		return total == each*len(customers)
	})
	mu.Lock()
	defer mu.Unlock()
	used := map[string]bool{}
	for _, cu := range customers {
		if len(where[cu]) != 1 {
			t.Errorf("customer %s spread over %v, want one partition", cu, where[cu])
		}
		for q := range where[cu] {
			used[q] = true
		}
		for i, n := range got[cu] {
			if n != i {
				t.Fatalf("customer %s handled out of order: %v", cu, got[cu])
			}
		}
	}
	if len(used) < 2 {
		t.Errorf("8 customers all hashed to %v: the header is not the hash input", used)
	}
	t.Logf("partitions used: %d of %d", len(used), layout.Partitions)
}

// TestUnknownExchangeTypeIsClear declares an exchange of a type the broker
// does not have, as it would refuse x-consistent-hash with the plugin off,
// and checks the refusal comes back as ErrNoHashExchange.
func TestUnknownExchangeTypeIsClear(t *testing.T) {
	client := dialClient(t, brokertest.Name(t, "inst"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := brokertest.Name(t, "ex")
	err := declare(ctx, client, warren.Topology{Exchanges: []warren.Exchange{{Name: name, Kind: "x-warren-no-such-type"}}})
	if !errors.Is(err, ErrNoHashExchange) {
		t.Fatalf("declare: %v, want ErrNoHashExchange", err)
	}
	t.Log(err)
}
