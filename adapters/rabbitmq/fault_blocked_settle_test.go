//go:build brokerfault

package rabbitmq

import (
	"context"
	"errors"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestBrokerBlockedSettlementWaits is defect 3 of issue 11: while a memory
// alarm blocks the publish connection, dead-letter copies cannot be
// published. Past the settle timeout the message must be requeued (a
// blocked broker is a wait), not nacked into the DLQ without warren's
// headers: once the alarm clears, every message is in the DLQ with them.
func TestBrokerBlockedSettlementWaits(t *testing.T) {
	brokertest.Require(t)
	client := newTestClient(t)
	spec := testSpec(t)
	t.Cleanup(func() { _ = exec.Command("rabbitmqctl", "set_vm_memory_high_watermark", "0.4").Run() })
	var calls atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("bad", func(context.Context, *warren.Message) error {
		calls.Add(1)
		return warren.Permanent(errors.New("invalid"))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 20
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(4), WithSettleTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := publishAll(ctx, client.Publisher(), spec.Exchange.Name, "bad", "b", n, 4); err != nil {
		t.Fatal(err)
	}
	brokertest.Rabbitmqctl(t, "set_vm_memory_high_watermark", "0.0001")
	// The broker blocks a connection when it next publishes: trip it.
	for i := 0; i < 5; i++ {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err := client.Publisher().Publish(pctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "trip"})
		pcancel()
		if errors.Is(err, ErrBlocked) {
			break
		}
	}
	stop := runConsumer(t, cons)
	time.Sleep(6 * time.Second) // three settle timeouts with the broker blocked
	during := calls.Load()
	brokertest.Rabbitmqctl(t, "set_vm_memory_high_watermark", "0.4")
	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	eventually(t, time.Minute, "every message in the DLQ", func() bool { return depth(t, ch, dlq) >= n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d handler calls while blocked, %d in all", during, calls.Load())
	for _, d := range drain(t, ch, dlq) {
		if d.Headers[warren.HeaderReason] != warren.ReasonPermanent {
			t.Errorf("a message dead-lettered without warren's headers while the broker was blocked: %v", d.Headers)
		}
	}
}
