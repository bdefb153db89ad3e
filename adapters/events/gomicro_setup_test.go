package events_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/events"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// The warren side of gomicro_scenario_test.go: the constructors it calls,
// each on a client and names of the test's own, and the cleanup of every
// queue and exchange they declared.

func newRabbitStream(t *testing.T) (*events.RabbitStream, error) {
	client, name := testClient(t)
	s, err := events.NewStream(client, events.WithName(name))
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

func newRabbitStore(t *testing.T) (*events.RabbitStore, error) {
	client, name := testClient(t)
	return events.NewStore(client, events.WithName(name))
}

// testClient dials a client named for the test and, when the test ends,
// closes it and deletes every queue and exchange whose name starts with
// that name.
func testClient(t *testing.T) (*rabbitmq.Client, string) {
	t.Helper()
	url := brokertest.Require(t)
	name := brokertest.Name(t, "gm")
	t.Cleanup(func() { deleteByPrefix(t, name) }) // runs after the close below
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName(name))
	if err != nil {
		t.Fatalf("cannot reach RabbitMQ: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client, name
}

// deleteByPrefix deletes the queues (listed by rabbitmqctl) and the
// stream exchange named after prefix.
func deleteByPrefix(t *testing.T, prefix string) {
	ch := brokertest.Channel(t)
	out := brokertest.Rabbitmqctl(t, "list_queues", "-q", "--no-table-headers", "name")
	for _, q := range strings.Fields(out) {
		if strings.HasPrefix(q, prefix+".") {
			if _, err := ch.QueueDelete(q, false, false, false); err != nil {
				t.Errorf("delete queue %s: %v", q, err)
			}
		}
	}
	_ = ch.ExchangeDelete(warren.StreamExchange(prefix), false, false)
}
