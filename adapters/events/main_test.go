package events

import (
	"context"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is one test's client, stream and store, with every broker object
// they declare deleted when the test ends (after they are closed).
type env struct {
	t      testing.TB
	name   string // client, stream and store name
	client *rabbitmq.Client
	stream *RabbitStream
	store  *RabbitStore

	mu     sync.Mutex
	queues []string
	errs   []error
}

func newEnv(t testing.TB, opts ...Option) *env {
	t.Helper()
	return newEnvAt(t, brokertest.Require(t), rabbitmq.WithReconnect(50*time.Millisecond, time.Second, 0), opts...)
}

// newEnvAt is newEnv with a client dialled to url with the recovery
// policy reconnect.
func newEnvAt(t testing.TB, url string, reconnect rabbitmq.Option, opts ...Option) *env {
	t.Helper()
	brokertest.Require(t)
	e := &env{t: t, name: brokertest.Name(t, "s")}
	t.Cleanup(e.deleteAll) // registered first, runs last
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName(e.name), reconnect)
	if err != nil {
		t.Fatalf("cannot reach RabbitMQ: %v\nstart one with `make broker`", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	e.client = client
	opts = append([]Option{WithName(e.name), WithErrorHandler(e.onError)}, opts...)
	if e.stream, err = NewStream(client, opts...); err != nil {
		t.Fatalf("NewStream: %v", err)
	}
	t.Cleanup(func() { _ = e.stream.Close() })
	if e.store, err = NewStore(client, opts...); err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return e
}

func (e *env) onError(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

// topic returns a topic and schedules its queues, and those of groups, for
// deletion.
func (e *env) topic(name string, groups ...string) string {
	ex := e.stream.Exchange()
	sq := StreamQueue(ex, name)
	qs := []string{sq, warren.DeadLetterQueue(sq), e.store.Queue(name)}
	for _, g := range groups {
		gq := GroupQueue(ex, g, name)
		qs = append(qs, gq, warren.DeadLetterQueue(gq))
	}
	e.mu.Lock()
	e.queues = append(e.queues, qs...)
	e.mu.Unlock()
	return name
}

func (e *env) deleteAll() {
	conn, err := amqp.Dial(brokertest.URL())
	if err != nil {
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	e.mu.Lock()
	qs := e.queues
	e.mu.Unlock()
	for _, q := range qs {
		_, _ = ch.QueueDelete(q, false, false, false)
	}
	_ = ch.ExchangeDelete(warren.StreamExchange(e.name), false, false)
}

// consume starts a consumer that stops when the test ends.
func (e *env) consume(topic string, opts ...ConsumeOption) <-chan Event {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	ch, err := e.stream.Consume(topic, append([]ConsumeOption{ConsumeContext(ctx)}, opts...)...)
	if err != nil {
		e.t.Fatalf("Consume(%q): %v", topic, err)
	}
	return ch
}

// receive waits for the next event on ch.
func receive(t *testing.T, ch <-chan Event, within time.Duration) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("consumer channel closed")
		}
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
	}
	return Event{}
}

// quiet asserts that nothing arrives on ch for d.
func quiet(t *testing.T, ch <-chan Event, d time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %s (attempt %d)", ev.ID, ev.Attempt())
	case <-time.After(d):
	}
}

// getAll takes every message from queue with basic.get.
func getAll(t *testing.T, queue string) []amqp.Delivery {
	t.Helper()
	return brokertest.Drain(t, brokertest.Channel(t), queue)
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// closeConnections closes, from the broker side, the connections whose
// name starts with prefix (brokertest.CloseConnections).
func closeConnections(t *testing.T, prefix string) int {
	return brokertest.CloseConnections(t, prefix, "events test")
}
