package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestPublishAbandonedWhileWaitingIsNeverSent: publishes whose deadline ends
// while they wait behind a send the broker stopped reading fail saying that
// nothing was sent, and are not sent later either: once the stalled write
// has failed the connection and the client has recovered on another node,
// the next message to reach the queue is the one published after them.
func TestPublishAbandonedWhileWaitingIsNeverSent(t *testing.T) {
	stalling, healthy := startOutageProxy(t), startOutageProxy(t)
	const writeTimeout = 2 * time.Second
	client := dialThrough(t, stalling, WithEndpoints(healthy.url()),
		WithReconnect(50*time.Millisecond, 200*time.Millisecond, 0),
		WithHeartbeat(5*time.Second), WithWriteTimeout(writeTimeout))
	ch := brokertest.Channel(t)
	q, err := ch.QueueDeclare(brokertest.Name(t, "q"), false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueues(t, q.Name)
	publish := func(timeout time.Duration, body string) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return client.Publisher().Publish(ctx, &warren.Publishing{RoutingKey: q.Name,
			Publishing: amqp.Publishing{Body: []byte(body)}})
	}
	if err := publish(5*time.Second, "before"); err != nil {
		t.Fatal(err)
	}

	filled, _ := stallPublishing(t, stalling, client)

	const abandoned = 20
	errs := make([]error, abandoned)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = publish(300*time.Millisecond, fmt.Sprintf("abandoned %d", i)) })
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil:
			t.Fatalf("publish %d confirmed while the broker reads nothing", i)
		case errors.Is(err, ErrPublishTimeout) || !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("publish %d: %v; want a deadline that ended before anything was sent", i, err)
		}
	}
	t.Logf("a publish queued behind the stalled send: %v", errs[0])

	select {
	case err := <-filled:
		t.Logf("the stalled send: %v", err)
	case <-time.After(writeTimeout + 10*time.Second):
		t.Fatal("the stalled send did not fail")
	}
	if err := publish(10*time.Second, "after"); err != nil {
		t.Fatalf("publish after recovery: %v", err)
	}
	var bodies []string
	for _, d := range drain(t, ch, q.Name) {
		bodies = append(bodies, string(d.Body))
	}
	t.Logf("the queue holds %q", bodies)
	if len(bodies) != 2 || bodies[0] != "before" || bodies[1] != "after" {
		t.Errorf("the queue holds %q; want [before after]: an abandoned publish was sent", bodies)
	}
}
