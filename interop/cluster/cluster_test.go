//go:build cluster

package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// nodeURL is the AMQP URL of cluster node cN (c1 on 5681, c2 on 5682, c3 on 5683).
func nodeURL(node string) string {
	return fmt.Sprintf("amqp://guest:guest@127.0.0.1:568%s/", strings.TrimPrefix(node, "c"))
}

func ctl(t *testing.T, node string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", append([]string{"-q", "-n", node + "@localhost"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl -n %s@localhost %v: %v\n%s\nstart the cluster with: make cluster", node, args, err, out)
	}
	return out
}

func TestClusterHasThreeRunningNodes(t *testing.T) {
	var status struct {
		RunningNodes []string `json:"running_nodes"`
	}
	if err := json.Unmarshal(ctl(t, "c1", "cluster_status", "--formatter", "json"), &status); err != nil {
		t.Fatal(err)
	}
	if len(status.RunningNodes) != 3 {
		t.Fatalf("running nodes = %v, want c1, c2, c3", status.RunningNodes)
	}
	t.Logf("running nodes: %v", status.RunningNodes)
}

type quorumInfo struct {
	Name    string   `json:"name"`
	Leader  string   `json:"leader"`
	Members []string `json:"members"`
}

func queueInfo(t *testing.T, via, queue string) quorumInfo {
	t.Helper()
	var qs []quorumInfo
	if err := json.Unmarshal(ctl(t, via, "list_queues", "name", "leader", "members", "--formatter", "json"), &qs); err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == queue {
			return q
		}
	}
	t.Fatalf("queue %s not listed by %s", queue, via)
	return quorumInfo{}
}

func TestClusterQuorumQueueSurvivesLeaderStop(t *testing.T) {
	conn, err := amqp.Dial(nodeURL("c1"))
	if err != nil {
		t.Fatalf("dial node 1: %v (start the cluster with: make cluster)", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	queue := fmt.Sprintf("cluster-test.quorum.%d", time.Now().UnixNano())
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := amqp.Dial(nodeURL("c1")); err == nil {
			if ch, err := c.Channel(); err == nil {
				_, _ = ch.QueueDelete(queue, false, false, false)
			}
			_ = c.Close()
		}
	})
	if err := ch.Publish("", queue, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("before")}); err != nil {
		t.Fatal(err)
	}

	info := queueInfo(t, "c1", queue)
	if len(info.Members) != 3 {
		t.Fatalf("quorum queue members = %v, want 3", info.Members)
	}
	leader := strings.TrimSuffix(info.Leader, "@localhost")
	t.Logf("queue %s: leader %s, members %v", queue, info.Leader, info.Members)

	stopNode(t, leader) // restored when the test ends, and the cluster whole again

	other := "c2"
	if leader == "c2" {
		other = "c3"
	}
	// Until the remaining members elect a leader the queue answers a get
	// with INTERNAL_ERROR (noproc), a connection-level error that closes the
	// connection: dial again and ask again, within a bound.
	var got amqp.Delivery
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	elections := 0
	for {
		oc, err := amqp.Dial(nodeURL(other))
		if err != nil {
			t.Fatal(err)
		}
		och, err := oc.Channel()
		if err != nil {
			_ = oc.Close()
			t.Fatal(err)
		}
		d, ok, err := och.Get(queue, true)
		_ = oc.Close()
		var amqpErr *amqp.Error
		switch {
		case err != nil && errors.As(err, &amqpErr) && amqpErr.Code == amqp.InternalError:
			elections++
		case err != nil:
			t.Fatalf("get from %s after stopping %s: %v", other, leader, err)
		case ok:
			got = d
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message published before %s stopped did not come back through %s within 30s (last: %v)", leader, other, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("message back through %s %v after stop_app of %s (%d gets refused while the queue had no leader)",
		other, time.Since(start).Round(time.Millisecond), leader, elections)
	if string(got.Body) != "before" {
		t.Fatalf("body = %q, want before", got.Body)
	}
	after := queueInfo(t, other, queue)
	if after.Leader == info.Leader {
		t.Fatalf("leader is still %s after its node stopped", after.Leader)
	}
	t.Logf("after stop_app of %s: leader %s, message read through %s", leader, after.Leader, other)
}
