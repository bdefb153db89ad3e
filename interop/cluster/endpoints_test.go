//go:build cluster

package cluster

// These tests need a client that dials a list of nodes and moves to a live
// one when it loses its node (issue 13, item 2: rabbitmq.WithEndpoints).

import (
	"context"
	"testing"
	"time"

	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// endpointsClient dials first, with the other nodes as endpoints.
func endpointsClient(first string, others ...string) func(context.Context, string, *events) (*rabbitmq.Client, error) {
	return endpointsClientURL(nodeURL(first), others)
}

// endpointsClientURL dials url first (a proxy, say), with the nodes
// others as the other endpoints.
func endpointsClientURL(url string, others []string, opts ...rabbitmq.Option) func(context.Context, string, *events) (*rabbitmq.Client, error) {
	var urls []string
	for _, n := range others {
		urls = append(urls, nodeURL(n))
	}
	return func(ctx context.Context, name string, ev *events) (*rabbitmq.Client, error) {
		return rabbitmq.Dial(ctx, url, append([]rabbitmq.Option{
			rabbitmq.WithEndpoints(urls...), rabbitmq.WithName(name),
			rabbitmq.WithReconnect(50*time.Millisecond, time.Second, 0), rabbitmq.WithObserver(ev),
		}, opts...)...)
	}
}

// connectionsOn waits until the client's two connections are listed and
// returns their nodes.
func (r *streamRun) connectionsOn(except string) map[string]string {
	r.t.Helper()
	return awaitConnectionNodes(r.t, r.name, 2, except)
}

// awaitMovedOff waits until both of the client's connections are on nodes
// other than gone and returns them and how long that took from since.
func (r *streamRun) awaitMovedOff(gone string, since time.Time) (map[string]string, time.Duration) {
	r.t.Helper()
	var conns map[string]string
	ok := await(30*time.Second, func() bool {
		conns = connectionNodes(r.t, r.name, gone)
		if len(conns) < 2 {
			return false
		}
		for _, n := range conns {
			if n == gone {
				return false
			}
		}
		return true
	})
	took := time.Since(since)
	if !ok {
		r.ev.log(r.t)
		r.t.Fatalf("the client's connections are not both on another node 30 s after %s went: %v", gone, conns)
	}
	return conns, took
}

// TestClusterNodeLoss is issue 13's node loss: a client dialed with all
// three endpoints, both its connections on c1, publishes and consumes a
// quorum queue led by c2; c1 stops at a third of the stream and starts
// again at two thirds. The connections move to a live node, no confirmed
// message is lost, duplicates stay within prefetch x losses, and
// publishing and consuming resume within the bound.
func TestClusterNodeLoss(t *testing.T) {
	requireCluster(t)
	r := startStream(t, messagesFromEnv(), "c2", endpointsClient("c1", "c2", "c3"))
	before := r.connectionsOn("")
	t.Logf("queue led by %s; connections %v", queueLeader(t, r.spec.Queue.Name, ""), before)
	for c, n := range before {
		if n != "c1" {
			t.Fatalf("connection %s on %s, want c1 (the first endpoint)", c, n)
		}
	}
	r.at(1.0 / 3)
	r.mark("stop c1 (the client's node)")
	node := stopNode(t, "c1")
	after, took := r.awaitMovedOff("c1", node.stopping)
	r.mark("connections on %v", after)
	t.Logf("connections moved to %v within %v of c1 stopping", after, took.Round(time.Millisecond))
	r.at(2.0 / 3)
	r.mark("start c1")
	node.Start(t)
	r.finish(node.stopping, 1, resumeBound)
}

// TestClusterRollingRestart is issue 13's rolling restart: each node in
// turn is stopped and started again during the stream, the client's
// node and the queue's leader among them, as an operator upgrading the
// cluster would.
func TestClusterRollingRestart(t *testing.T) {
	requireCluster(t)
	r := startStream(t, messagesFromEnv(), "c2", endpointsClient("c1", "c2", "c3"))
	t.Logf("queue led by %s; connections %v", queueLeader(t, r.spec.Queue.Name, ""), r.connectionsOn(""))
	var first time.Time
	for i, n := range clusterNodes {
		r.at(float64(2*i+1) / 8)
		r.mark("stop %s", n)
		node := stopNode(t, n)
		if first.IsZero() {
			first = node.stopping
		}
		r.at(float64(2*i+2) / 8)
		r.mark("start %s; leader now %s, connections %v", n, queueLeader(t, r.spec.Queue.Name, n), connectionNodes(t, r.name, n))
		node.Start(t)
	}
	r.finish(first, int64(len(clusterNodes)), resumeBound)
}

// TestClusterClientPartition is issue 13's partition of the client from
// its node: the client reaches c1 through a toxiproxy, and at a third of
// the stream the proxy stops passing data both ways without closing
// anything (no FIN, no RST). The client notices within 2 heartbeats, moves
// to another node, and the stream goes on with nothing confirmed lost.
func TestClusterClientPartition(t *testing.T) {
	requireCluster(t)
	const heartbeat = 2 * time.Second
	proxy, proxied := proxyTo(t, "c1")
	r := startStream(t, messagesFromEnv(), "c2", endpointsClientURL(proxied, []string{"c2", "c3"}, rabbitmq.WithHeartbeat(heartbeat)))
	before := r.connectionsOn("")
	t.Logf("queue led by %s; connections %v (c1 through %s)", queueLeader(t, r.spec.Queue.Name, ""), before, proxy.Addr())
	r.at(1.0 / 3)
	r.mark("partition the client from c1")
	cut := time.Now()
	proxy.Stall(t)
	t.Cleanup(func() { proxy.Unstall(t) })
	noticed := await(2*heartbeat+resumeSlack, func() bool { return r.ev.downs.Load() > 0 })
	noticeTook := time.Since(cut)
	after, moveTook := r.awaitMovedOff("c1", cut)
	r.mark("connections on %v", after)
	t.Logf("connection loss noticed after %v (bound 2 heartbeats = %v + %v slack); connections on %v after %v",
		noticeTook.Round(time.Millisecond), 2*heartbeat, resumeSlack, after, moveTook.Round(time.Millisecond))
	if !noticed {
		t.Errorf("no connection loss noticed within %v of the partition", 2*heartbeat+resumeSlack)
	}
	r.finish(cut, 1, 2*heartbeat+resumeBound)
}
