//go:build cluster

package rabbitmq

// The cluster tests run against the local 3-node cluster of
// scripts/cluster.sh (make cluster): c1, c2 and c3 @localhost on AMQP ports
// 5681 to 5683. They are behind the build tag cluster, so that go test
// ./... needs no cluster:
//
//	flock -o -x /tmp/warren-cluster.lock go test -race -count=1 -tags cluster -run TestCluster ./adapters/rabbitmq/
//
// Tests that stop nodes restore them in t.Cleanup, even when they fail.

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

var clusterNodes = []string{"c1", "c2", "c3"}

// nodeAddr is the AMQP address of node (c1 -> 127.0.0.1:5681).
func nodeAddr(node string) string { return "127.0.0.1:568" + strings.TrimPrefix(node, "c") }

// nodeURL is the AMQP URL of node.
func nodeURL(node string) string { return "amqp://guest:guest@" + nodeAddr(node) + "/" }

// clusterCtl runs rabbitmqctl against node, bounded.
func clusterCtl(node string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", append([]string{"-q", "-n", node + "@localhost"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("rabbitmqctl -n %s@localhost %s: %v: %s", node, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// requireCluster fails the test unless every node answers.
func requireCluster(t *testing.T) {
	t.Helper()
	for _, n := range clusterNodes {
		c, err := amqp.Dial(nodeURL(n))
		if err != nil {
			t.Fatalf("cluster node %s does not answer (%v): start the cluster with `make cluster`", n, err)
		}
		_ = c.Close()
	}
}

// stopNode stops node's application (its connections close, its quorum
// leaderships move) and restores it when the test ends, even when it
// failed. start restores it earlier; it waits until the node runs again.
func stopNode(t *testing.T, node string) (start func()) {
	t.Helper()
	var once sync.Once
	start = func() {
		once.Do(func() {
			if _, err := clusterCtl(node, "start_app"); err != nil {
				t.Errorf("restore %s: %v (run scripts/cluster.sh up)", node, err)
				return
			}
			if _, err := clusterCtl(node, "await_startup", "--timeout", "60"); err != nil {
				t.Errorf("restore %s: %v", node, err)
			}
		})
	}
	t.Cleanup(start)
	if _, err := clusterCtl(node, "stop_app"); err != nil {
		t.Fatalf("stop %s: %v", node, err)
	}
	return start
}

// clusterSpec is testSpec on the cluster: a unique quorum event-stream
// spec whose queues and exchange are deleted, through a running node,
// when the test ends (after the nodes it stopped are restored, since it is
// called before).
func clusterSpec(t *testing.T) Spec {
	t.Helper()
	spec := TopicSpec(brokertest.Name(t, "svc"), "consumer")
	t.Cleanup(func() {
		for _, n := range clusterNodes {
			c, err := amqp.Dial(nodeURL(n))
			if err != nil {
				continue
			}
			defer func() { _ = c.Close() }()
			ch, err := c.Channel()
			if err != nil {
				continue
			}
			for _, q := range []string{spec.Queue.Name, warren.DeadLetterQueue(spec.Queue.Name)} {
				_, _ = ch.QueueDelete(q, false, false, false)
			}
			_ = ch.ExchangeDelete(spec.Exchange.Name, false, false)
			return
		}
		t.Errorf("no cluster node to delete %s on", spec.Queue.Name)
	})
	return spec
}

// queueLeader returns the node that leads queue, as node sees it.
func queueLeader(t *testing.T, node, queue string) string {
	t.Helper()
	out, err := clusterCtl(node, "list_queues", "name", "leader")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == queue {
			return strings.TrimSuffix(f[1], "@localhost")
		}
	}
	t.Fatalf("queue %s not listed by %s:\n%s", queue, node, out)
	return ""
}
