package goamqp

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type OrderCreated struct {
	Run string `json:"run"`
	ID  int    `json:"id"`
}

type OrderUpdated struct {
	Run    string `json:"run"`
	ID     int    `json:"id"`
	Status string `json:"status"`
}

type PriceQuery struct {
	SKU string `json:"sku"`
}

type Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

// orderRoutes is the type mapping both sides use for the order events.
var orderRoutes = map[string]any{"Order.Created": OrderCreated{}, "Order.Updated": OrderUpdated{}}

// deleteQueues deletes each queue when t ends, one connection each, so a
// missing one cannot stop the others' deletion.
func deleteQueues(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		brokertest.DeleteQueues(t, n)
	}
}

func deleteExchanges(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		brokertest.DeleteExchanges(t, n)
	}
}

// dialPeer dials a goamqp peer for service, closed when t ends.
func dialPeer(t *testing.T, service string) *Peer {
	t.Helper()
	p, err := Dial(brokertest.Require(t), service)
	if err != nil {
		t.Fatalf("dial peer %s: %v (start a broker with: make broker)", service, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// dialWarren dials a warren client named service, closed when t ends.
func dialWarren(t *testing.T, service string) *rabbitmq.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rabbitmq.Dial(ctx, brokertest.Require(t), rabbitmq.WithName(service))
	if err != nil {
		t.Fatalf("dial warren %s: %v", service, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// runConsumer runs cons until t ends, deleting every queue of its
// topology afterwards.
func runConsumer(t *testing.T, cons *rabbitmq.Consumer) {
	t.Helper()
	for _, q := range cons.Topology().Queues {
		deleteQueues(t, q.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("consumer run: %v", err)
		}
	})
}

// newConsumer makes a warren consumer for spec on client, run until t ends.
func newConsumer(t *testing.T, client *rabbitmq.Client, r *warren.Router, spec rabbitmq.Spec) *rabbitmq.Consumer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := client.NewConsumer(ctx, r, spec)
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	runConsumer(t, cons)
	return cons
}
