//go:build brokerfault

package rabbitmq

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestBrokerRestartWhilePublishing stops and starts the broker application
// while messages are published with confirms and consumed: every confirmed
// message is consumed. It restarts the whole broker, so it runs apart from
// the rest of the suite (build tag brokerfault; `make test` runs it last,
// on its own).
func TestBrokerRestartWhilePublishing(t *testing.T) {
	const n = 20000
	brokertest.Require(t)
	t.Cleanup(func() {
		// Whatever happened, leave the broker running for whoever is next.
		_ = exec.Command("rabbitmqctl", "start_app").Run()
		_ = exec.Command("rabbitmqctl", "await_startup").Run()
	})
	events := &eventLog{}
	client := newTestClient(t, WithObserver(events))
	t.Cleanup(func() {
		if t.Failed() {
			events.dump(t)
		}
	})
	spec := testSpec(t)
	tr := newIDTracker()
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", tr.handle)
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(8), WithPrefetch(64))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pubErr := make(chan error, 1)
	go func() { pubErr <- publishAll(ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", "r", n, 8) }()

	eventually(t, time.Minute, "some messages consumed", func() bool { return tr.total.Load() > 500 })
	brokertest.Rabbitmqctl(t, "stop_app")
	down := time.Now()
	time.Sleep(2 * time.Second)
	brokertest.Rabbitmqctl(t, "start_app")
	brokertest.Rabbitmqctl(t, "await_startup")
	resumeFrom := tr.total.Load()
	t.Logf("%d handled before the restart", resumeFrom)
	eventually(t, time.Minute, "consuming to resume", func() bool { return tr.total.Load() > resumeFrom })
	t.Logf("consuming resumed %v after stop_app", time.Since(down).Round(time.Millisecond))

	if err := <-pubErr; err != nil {
		t.Fatalf("publishing: %v", err)
	}
	eventually(t, 2*time.Minute, "every confirmed message consumed", func() bool { return tr.distinct() == n })
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	t.Logf("%d confirmed, %d handled (%d duplicates)", n, tr.total.Load(), tr.total.Load()-n)
}
