//go:build cluster

package cluster

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/retry"
)

// TestClusterQuorumSettlementTable runs warren's settlement table on a
// quorum work queue of the cluster, with the topology warren declares
// (Spec.Queue.Type = warren.Quorum): the queue is led by c1, the client is
// on c2, and the dead letters are read through c3. An ack, a failure
// retried once through the wait queue, a failure that exhausts its retries
// and a permanent failure dead-lettered with their reasons, and a requeue
// dead-lettered at the requeue limit counted by the broker's
// x-delivery-count.
func TestClusterQuorumSettlementTable(t *testing.T) {
	requireCluster(t)
	delay := 200 * time.Millisecond
	var ok, flaky, requeues atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("ok", func(context.Context, *warren.Message) error { ok.Add(1); return nil })
	r.HandleFunc("flaky", func(_ context.Context, m *warren.Message) error {
		if m.Attempt == 1 {
			return errors.New("db unavailable")
		}
		flaky.Add(1)
		return nil
	})
	r.HandleFunc("fail", func(context.Context, *warren.Message) error { return errors.New("always") })
	r.HandleFunc("perm", func(context.Context, *warren.Message) error { return warren.Permanent(errors.New("invalid")) })
	r.HandleFunc("requeue", func(context.Context, *warren.Message) error {
		requeues.Add(1)
		return warren.Requeue(errors.New("not yet"))
	})
	spec := streamSpec(t)
	opts := []rabbitmq.ConsumerOption{rabbitmq.WithWorkers(4), rabbitmq.WithRequeueLimit(3), rabbitmq.WithRetry(retry.Delays(delay))}
	declareThrough(t, "c1", r, spec, opts...)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, nodeURL("c2"), rabbitmq.WithName(brokertest.Name(t, "client")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	cons, err := client.NewConsumer(ctx, r, spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	types := queueTypes(t, cons.Topology())
	t.Logf("leader of the work queue: %s; queue types: %v", queueLeader(t, spec.Queue.Name, ""), types)
	if types[spec.Queue.Name] != "quorum" {
		t.Fatalf("work queue is %q, want quorum", types[spec.Queue.Name])
	}
	runConsumer(t, cons)
	for _, k := range []string{"ok", "flaky", "fail", "perm", "requeue"} {
		publishKey(t, client.Publisher(), spec.Exchange.Name, k)
	}
	ch := rawChannel(t, "c3")
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	if !await(30*time.Second, func() bool { return brokertest.Depth(t, ch, dlq) == 3 }) {
		t.Fatalf("dead letters: %d, want 3", brokertest.Depth(t, ch, dlq))
	}
	if !await(10*time.Second, func() bool { return ok.Load() == 1 && flaky.Load() == 1 }) {
		t.Errorf("ok handled %d, flaky succeeded %d, want 1 and 1", ok.Load(), flaky.Load())
	}
	reasons := map[string]string{}
	for _, d := range brokertest.Drain(t, ch, dlq) {
		k, _ := d.Headers[warren.HeaderOriginalRoutingKey].(string)
		reasons[k], _ = d.Headers[warren.HeaderReason].(string)
	}
	want := map[string]string{"fail": warren.ReasonError, "perm": warren.ReasonPermanent, "requeue": warren.ReasonRequeueLimit}
	for k, reason := range want {
		if reasons[k] != reason {
			t.Errorf("%s: dead-letter reason %q, want %q (all: %v)", k, reasons[k], reason, reasons)
		}
	}
	t.Logf("requeue handled %d times with limit 3 (x-delivery-count)", requeues.Load())
	if n := requeues.Load(); n < 3 || n > 4 {
		t.Errorf("requeue handled %d times, want 3 or 4", n)
	}
}

// queueTypes returns the x-queue-type the cluster reports for each queue
// of topology.
func queueTypes(t *testing.T, topology warren.Topology) map[string]string {
	t.Helper()
	want := map[string]bool{}
	for _, q := range topology.Queues {
		want[q.Name] = true
	}
	types := map[string]string{}
	for _, line := range strings.Split(string(ctlAny(t, "", "list_queues", "--no-table-headers", "name", "type")), "\n") {
		if name, typ, ok := strings.Cut(line, "\t"); ok && want[name] {
			types[name] = typ
		}
	}
	return types
}

// publishKey publishes an empty JSON body with routing key key.
func publishKey(t *testing.T, pub warren.Publisher, exchange, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: key}); err != nil {
		t.Fatalf("publish %s: %v", key, err)
	}
}
