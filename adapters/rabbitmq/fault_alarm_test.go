//go:build brokerfault

package rabbitmq

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestBrokerMemoryAlarmBlocksPublishersNotConsumers raises a memory alarm
// (rabbitmqctl set_vm_memory_high_watermark 0.0001): the broker blocks
// connections that publish. A publish waits for the alarm to clear up to
// its context and then fails with ErrBlocked (never a silent success), the
// blocked handler hears of it, and the consumers, on their own connection,
// go on consuming and acking. When the alarm clears, publishing resumes.
func TestBrokerMemoryAlarmBlocksPublishersNotConsumers(t *testing.T) {
	brokertest.Require(t)
	const n = 3000
	var mu sync.Mutex
	var blockedEvents []bool
	client := newTestClient(t, WithBlockedHandler(func(conn string, blocked bool, reason string) {
		mu.Lock()
		blockedEvents = append(blockedEvents, blocked)
		mu.Unlock()
	}))
	spec := testSpec(t)
	// Registered after the client's cleanup, so it runs before it (t.Cleanup
	// is last in, first out): the client's close needs the broker to read
	// its connections again.
	t.Cleanup(func() { // whatever happened, leave the broker able to take publishes
		_ = exec.Command("rabbitmqctl", "set_vm_memory_high_watermark", "0.4").Run()
	})
	tr := newIDTracker()
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(ctx context.Context, m *warren.Message) error {
		time.Sleep(10 * time.Millisecond) // about 400 msg/s: the alarm comes mid-stream
		return tr.handle(ctx, m)
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(4), WithPrefetch(32))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := publishAll(ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", "a", n, 8); err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	eventually(t, 30*time.Second, "consuming to start", func() bool { return tr.total.Load() > 100 })

	brokertest.Rabbitmqctl(t, "set_vm_memory_high_watermark", "0.0001")
	// The broker blocks a connection when it next publishes: the publish
	// that trips the block may still be confirmed; the ones after it must
	// fail, first waiting for a confirm, then with ErrBlocked.
	var errs []error
	for i := 0; i < 5 && !errors.Is(last(errs), ErrBlocked); i++ {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		errs = append(errs, client.Publisher().Publish(pctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created"}))
		pcancel()
	}
	t.Logf("publishes during the alarm: %v", errs)
	if !errors.Is(last(errs), ErrBlocked) {
		t.Fatalf("publishing during a memory alarm never reported ErrBlocked: %v", errs)
	}
	before := tr.total.Load()
	eventually(t, 30*time.Second, "consuming to go on during the alarm", func() bool { return tr.total.Load() > before+200 })

	brokertest.Rabbitmqctl(t, "set_vm_memory_high_watermark", "0.4")
	if err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created"}); err != nil {
		t.Fatalf("publish after the alarm cleared: %v", err)
	}
	eventually(t, time.Minute, "every message consumed", func() bool { return tr.distinct() >= n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(blockedEvents) < 2 || !blockedEvents[0] || blockedEvents[len(blockedEvents)-1] {
		t.Fatalf("blocked handler saw %v, want blocked then unblocked", blockedEvents)
	}
}

func last(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[len(errs)-1]
}
