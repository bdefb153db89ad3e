//go:build cluster

package rabbitmq

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestClusterLeaderLocatorClientLocal: a client on c3 (its first
// endpoint) declares a quorum queue with WithLeaderLocator(
// LeaderClientLocal): c3 leads it, and its DLQ; the queue has a member on
// every node (replicated). With LeaderBalanced, three queues declared from
// c3 are not all led by c3.
func TestClusterLeaderLocatorClientLocal(t *testing.T) {
	requireCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := Dial(ctx, nodeURL("c3"), WithEndpoints(nodeURL("c1"), nodeURL("c2")), WithName(brokertest.Name(t, "client")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	r := warren.NewRouter()
	r.HandleFunc("Order.#", func(context.Context, *warren.Message) error { return nil })
	spec := clusterSpec(t)
	if _, err := client.NewConsumer(ctx, r, spec, WithQueueType(warren.Quorum), WithLeaderLocator(LeaderClientLocal)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{spec.Queue.Name, warren.DeadLetterQueue(spec.Queue.Name)} {
		if leader := queueLeader(t, "c1", q); leader != "c3" {
			t.Errorf("%s led by %s, want c3 (client-local: the declaring connection's node)", q, leader)
		}
	}
	out, err := clusterCtl("c1", "list_queues", "name", "members")
	if err != nil {
		t.Fatal(err)
	}
	if !containsAll(out, spec.Queue.Name, "c1@localhost", "c2@localhost", "c3@localhost") {
		t.Errorf("the quorum queue is not on every node:\n%s", out)
	}
	// The broker's default is client-local too: balanced shows the option
	// is what places the leader. Three queues declared from c3 do not all
	// get c3 as leader.
	leaders := map[string]int{}
	for i := 0; i < 3; i++ {
		balanced := clusterSpec(t)
		if _, err := client.NewConsumer(ctx, r, balanced, WithQueueType(warren.Quorum), WithLeaderLocator(LeaderBalanced)); err != nil {
			t.Fatalf("a balanced quorum queue: %v", err)
		}
		leaders[queueLeader(t, "c1", balanced.Queue.Name)]++
	}
	t.Logf("balanced leaders of three queues declared from c3: %v", leaders)
	if leaders["c3"] == 3 {
		t.Errorf("balanced: all three queues led by c3, the declaring node: the locator was not applied")
	}
}

// containsAll reports whether a line of out holds every one of words.
func containsAll(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return true
		}
	}
	return false
}
