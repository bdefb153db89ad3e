//go:build cluster

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/testsupport/faultproxy"
)

// The fault harness: stop and start cluster nodes (restored in t.Cleanup,
// failed test or not), find the node that leads a quorum queue and the node
// a client connection is on, wait until the cluster has every member
// running again, and put a toxiproxy in front of one node.
//
// A test that stops a node breaks the cluster for everyone using it, so
// the suite runs under `flock -x /tmp/warren-cluster.lock` (make
// chaos-cluster takes it).

// clusterNodes are the short names of the local cluster's nodes.
var clusterNodes = []string{"c1", "c2", "c3"}

// nodeAddr is the AMQP host:port of node cN.
func nodeAddr(node string) string {
	return "127.0.0.1:568" + strings.TrimPrefix(node, "c")
}

// ctlTimeout bounds one rabbitmqctl call of the harness.
const ctlTimeout = 60 * time.Second

// rabbitmqctl runs rabbitmqctl (or rabbitmq-queues, with tool set) against
// node and returns its output; it never fails the test by itself.
func runCtl(tool, node string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, append([]string{"-q", "-n", node + "@localhost"}, args...)...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s -n %s@localhost %s: %v: %s", tool, node, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// ctlAny runs rabbitmqctl args on the first node that answers, skipping
// except (a stopped node's VM answers but its app does not).
func ctlAny(t testing.TB, except string, args ...string) []byte {
	t.Helper()
	var errs []string
	for _, n := range clusterNodes {
		if n == except {
			continue
		}
		out, err := runCtl("rabbitmqctl", n, args...)
		if err == nil {
			return out
		}
		errs = append(errs, err.Error())
	}
	t.Fatalf("no cluster node answered %v:\n%s\nstart the cluster with: make cluster", args, strings.Join(errs, "\n"))
	return nil
}

// stoppedNode is a node a test stopped; Start restores it.
type stoppedNode struct {
	name     string
	stopping time.Time // when the stop began (stop_app takes seconds)
	stopped  time.Time // when it was done
	once     sync.Once
	err      error
	back     bool         // Start saw the cluster whole again
	restart  func() error // how to bring it back; nil: start_app
}

// stopNode stops node's RabbitMQ application (rabbitmqctl stop_app: the
// Erlang VM stays, the node leaves the running members, its connections
// close) and restores it when the test ends, even when it failed.
func stopNode(t *testing.T, node string) *stoppedNode {
	t.Helper()
	s := &stoppedNode{name: node, stopping: time.Now()}
	if _, err := runCtl("rabbitmqctl", node, "stop_app"); err != nil {
		// A stop_app that timed out may have stopped the app anyway.
		t.Cleanup(func() { _ = s.start() })
		t.Fatalf("stop %s: %v", node, err)
	}
	s.stopped = time.Now()
	t.Cleanup(func() {
		if err := s.start(); err != nil {
			t.Errorf("restore %s: %v (run scripts/cluster.sh up)", node, err)
		}
		if s.back {
			return
		}
		if err := awaitClusterRunning(2 * time.Minute); err != nil {
			t.Errorf("after restoring %s: %v", node, err)
		}
	})
	return s
}

// killNode ends node's Erlang VM with SIGKILL, a crash: no graceful
// hand-over of its quorum queue leaderships, its connections reset. The
// node is started again (scripts/cluster.sh up) when the test ends, even
// when it failed, or earlier by Start.
func killNode(t *testing.T, node string) *stoppedNode {
	t.Helper()
	pidFile := filepath.Join(clusterDir(), node, "mnesia", node+"@localhost.pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("kill %s: %v", node, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("kill %s: pid file %s: %v", node, pidFile, err)
	}
	s := &stoppedNode{name: node, restart: clusterUp}
	t.Cleanup(func() {
		if err := s.start(); err != nil {
			t.Errorf("restore %s: %v", node, err)
		}
		if !s.back {
			if err := awaitClusterRunning(2 * time.Minute); err != nil {
				t.Errorf("after restoring %s: %v", node, err)
			}
		}
	})
	s.stopping = time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s (pid %d): %v", node, pid, err)
	}
	s.stopped = time.Now()
	return s
}

// clusterDir is where scripts/cluster.sh keeps the nodes' files.
func clusterDir() string {
	if d := os.Getenv("WARREN_CLUSTER_DIR"); d != "" {
		return d
	}
	return "/var/tmp/warren-cluster"
}

// clusterUp runs scripts/cluster.sh up, which starts the nodes that are
// not running.
func clusterUp() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "../../scripts/cluster.sh", "up").CombinedOutput()
	if err != nil {
		return fmt.Errorf("scripts/cluster.sh up: %v: %s", err, out)
	}
	return nil
}

// start starts the node's application again and waits for it; only the
// first call does anything.
func (s *stoppedNode) start() error {
	s.once.Do(func() {
		if s.restart != nil {
			s.err = s.restart()
			return
		}
		if _, err := runCtl("rabbitmqctl", s.name, "start_app"); err != nil {
			s.err = err
			return
		}
		_, s.err = runCtl("rabbitmqctl", s.name, "await_startup", "--timeout", "60")
	})
	return s.err
}

// Start restores the node in the middle of a test and waits until the
// cluster has all its members running again.
func (s *stoppedNode) Start(t *testing.T) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("start %s: %v", s.name, err)
	}
	if err := awaitClusterRunning(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	s.back = true
}

// runningNodes returns the running members as node asks them.
func runningNodes(node string) ([]string, error) {
	out, err := runCtl("rabbitmqctl", node, "cluster_status", "--formatter", "json")
	if err != nil {
		return nil, err
	}
	var status struct {
		RunningNodes []string `json:"running_nodes"`
	}
	if err := json.Unmarshal(out, &status); err != nil {
		return nil, fmt.Errorf("cluster_status of %s: %v", node, err)
	}
	return status.RunningNodes, nil
}

// awaitClusterRunning waits until every node answers and lists all of
// them as running members.
func awaitClusterRunning(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		last = nil
		for _, n := range clusterNodes {
			running, err := runningNodes(n)
			if err == nil && len(running) != len(clusterNodes) {
				err = fmt.Errorf("%s lists running nodes %v", n, running)
			}
			if err != nil {
				last = err
				break
			}
		}
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not back with %d running nodes within %v: %v", len(clusterNodes), timeout, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// requireCluster fails the test unless the three nodes run clustered.
func requireCluster(t *testing.T) {
	t.Helper()
	if err := awaitClusterRunning(5 * time.Second); err != nil {
		t.Fatalf("%v\nstart the cluster with: make cluster", err)
	}
}

// shortNode turns rabbit's node name c1@localhost into c1.
func shortNode(name string) string {
	n, _, _ := strings.Cut(name, "@")
	return n
}

// pidNode returns the node of an Erlang pid as rabbitmqctl prints it:
// c2 for <c2@localhost.1.2.3>.
func pidNode(pid string) string {
	return shortNode(strings.TrimPrefix(pid, "<"))
}

// queueLeader returns the node that leads quorum queue queue (or holds
// classic queue queue), asking a node other than except.
func queueLeader(t *testing.T, queue, except string) string {
	t.Helper()
	// The JSON formatter prints pids without their node (#PID<12768.1.0>),
	// the table one with it (<c2@localhost.1.2.3>).
	out := ctlAny(t, except, "list_queues", "--no-table-headers", "name", "leader", "pid")
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[0] != queue {
			continue
		}
		if f[1] != "" {
			return shortNode(f[1])
		}
		return pidNode(f[2])
	}
	t.Fatalf("queue %s is not listed:\n%s", queue, out)
	return ""
}

// connectionNodes returns, for every client connection whose
// connection_name starts with prefix, the node it is on, by connection
// name. The node is the one whose AMQP port the connection's name ends
// with (127.0.0.1:40312 -> 127.0.0.1:5682 is on c2), which holds through
// a proxy too.
func connectionNodes(t *testing.T, prefix, except string) map[string]string {
	t.Helper()
	var conns []struct {
		Name             string          `json:"name"`
		ClientProperties json.RawMessage `json:"client_properties"`
	}
	out := ctlAny(t, except, "list_connections", "name", "client_properties", "--formatter", "json")
	if err := json.Unmarshal(out, &conns); err != nil {
		t.Fatalf("list_connections: %v: %s", err, out)
	}
	found := map[string]string{}
	for _, c := range conns {
		name := connectionName(c.ClientProperties)
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		found[name] = "?" + c.Name
		_, server, _ := strings.Cut(c.Name, " -> ")
		for _, n := range clusterNodes {
			if server == nodeAddr(n) {
				found[name] = n
			}
		}
	}
	return found
}

// connectionName finds connection_name in client_properties as
// rabbitmqctl's JSON formatter writes them: a list of [key, type, value].
func connectionName(props json.RawMessage) string {
	var triples [][]any
	if err := json.Unmarshal(props, &triples); err == nil {
		for _, p := range triples {
			if len(p) == 3 && p[0] == "connection_name" {
				s, _ := p[2].(string)
				return s
			}
		}
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal(props, &m); err == nil {
		s, _ := m["connection_name"].(string)
		return s
	}
	return ""
}

// awaitConnectionNodes waits until want connections named prefix* are
// listed and returns their nodes.
func awaitConnectionNodes(t *testing.T, prefix string, want int, except string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := connectionNodes(t, prefix, except)
		if len(got) >= want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections %s*: %v listed, want %d", prefix, got, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// proxyTo puts a toxiproxy in front of node and returns it with the AMQP
// URL that goes through it; it stops when the test ends.
func proxyTo(t *testing.T, node string) (*faultproxy.Proxy, string) {
	t.Helper()
	p := faultproxy.Start(t, nodeAddr(node))
	return p, p.URL(nodeURL(node))
}

// rawChannel opens an amqp091-go channel to node, closed when the test
// ends.
func rawChannel(t *testing.T, node string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.DialConfig(nodeURL(node), amqp.Config{
		Properties: amqp.Table{"connection_name": "warren-cluster-test " + t.Name()},
	})
	if err != nil {
		t.Fatalf("dial %s: %v (start the cluster with: make cluster)", node, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// deleteOnCleanup deletes queues and exchanges when the test ends,
// through the first node that takes a connection. Cleanups run last
// registered first, so call it before stopping a node: the node is back
// by the time it runs.
func deleteOnCleanup(t *testing.T, queues, exchanges []string) {
	t.Helper()
	t.Cleanup(func() {
		for _, n := range clusterNodes {
			conn, err := amqp.Dial(nodeURL(n))
			if err != nil {
				continue
			}
			defer conn.Close()
			// A refused delete closes its channel: one channel each.
			do := func(what string, op func(*amqp.Channel) error) {
				ch, err := conn.Channel()
				if err == nil {
					err = op(ch)
					_ = ch.Close()
				}
				if err != nil {
					t.Logf("cleanup: delete %s: %v", what, err)
				}
			}
			for _, q := range queues {
				do(q, func(ch *amqp.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
			}
			for _, e := range exchanges {
				do(e, func(ch *amqp.Channel) error { return ch.ExchangeDelete(e, false, false) })
			}
			return
		}
		t.Errorf("cleanup: no cluster node took a connection to delete %v %v", queues, exchanges)
	})
}

// TestClusterHarness checks the harness itself: it finds the leader of a
// quorum queue, the node of a connection, and stops and restores a node
// (the one neither is on).
func TestClusterHarness(t *testing.T) {
	requireCluster(t)
	queue := fmt.Sprintf("warren-cluster-test.harness.%d", time.Now().UnixNano())
	classic := queue + ".classic"
	deleteOnCleanup(t, []string{queue, classic}, nil)
	ch := rawChannel(t, "c2")
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(classic, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if home := queueLeader(t, classic, ""); home != "c2" {
		t.Errorf("classic queue declared through c2 is on %s", home)
	}
	leader := queueLeader(t, queue, "")
	conns := awaitConnectionNodes(t, "warren-cluster-test "+t.Name(), 1, "")
	t.Logf("leader of %s: %s; connections: %v", queue, leader, conns)
	if leader != "c2" { // declared through c2: the default leader locator is client-local
		t.Errorf("leader = %s, want c2", leader)
	}
	for name, node := range conns {
		if node != "c2" {
			t.Errorf("connection %s on %s, want c2", name, node)
		}
	}
	_, proxied := proxyTo(t, "c3")
	pc, err := amqp.DialConfig(proxied, amqp.Config{Properties: amqp.Table{"connection_name": "warren-cluster-test proxied " + t.Name()}})
	if err != nil {
		t.Fatalf("dial c3 through the proxy: %v", err)
	}
	defer pc.Close()
	if got := awaitConnectionNodes(t, "warren-cluster-test proxied "+t.Name(), 1, ""); len(got) != 1 || got["warren-cluster-test proxied "+t.Name()] != "c3" {
		t.Errorf("connection through the proxy to c3 listed on %v, want c3", got)
	}
	s := stopNode(t, "c3")
	if running, err := runningNodes("c1"); err != nil || len(running) != 2 {
		t.Errorf("with c3 stopped, c1 lists running nodes %v (%v), want 2", running, err)
	}
	s.Start(t)
	t.Logf("c3 stopped and back in %v", time.Since(s.stopped).Round(time.Millisecond))
}
