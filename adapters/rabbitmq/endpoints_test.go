package rabbitmq

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// deadAddr returns an address on which nothing listens (a port just freed).
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestDialEndpointsSkipsADeadNode: Dial's own URL refuses connections, the
// second endpoint is the broker: both connections are on the second, the
// broker shows them named after it, and the Observer said which node.
func TestDialEndpointsSkipsADeadNode(t *testing.T) {
	url := brokertest.Require(t)
	dead := "amqp://guest:guest@" + deadAddr(t) + "/"
	log := &connLog{}
	name := brokertest.Name(t, "client")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, dead, WithEndpoints(url), WithName(name), WithObserver(log))
	if err != nil {
		t.Fatalf("Dial with a live second endpoint: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	consume, publish := c.ConnectedTo()
	if consume != "127.0.0.1:5672" || publish != consume {
		t.Fatalf("connected to %s and %s, want the live node 127.0.0.1:5672", consume, publish)
	}
	if n := log.count(name+".consume", func(e warren.ConnectionEvent) bool {
		return e.State == warren.ConnUp && e.Endpoint == "127.0.0.1:5672"
	}); n != 1 {
		t.Fatalf("%d ConnUp events naming the node, want 1:\n%s", n, log)
	}
	if n := log.count(name+".consume", func(e warren.ConnectionEvent) bool {
		return e.State == warren.ConnDown && e.Endpoint != "127.0.0.1:5672" && e.Err != nil
	}); n != 1 {
		t.Fatalf("%d ConnDown events naming the dead node, want 1:\n%s", n, log)
	}
	eventually(t, 10*time.Second, "connections listed", func() bool {
		return len(connectionsNamed(t, name+".consume@127.0.0.1:5672")) == 1 &&
			len(connectionsNamed(t, name+".publish@127.0.0.1:5672")) == 1
	})
}

// TestDialEndpointsNoneReachable: when no endpoint answers, Dial fails when
// its context ends, with every node's last cause and no password.
func TestDialEndpointsNoneReachable(t *testing.T) {
	a, b, c := deadAddr(t), deadAddr(t), deadAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, "amqp://guest:s3cr3tA@"+a+"/", WithEndpoints("amqp://u:s3cr3tB@"+b+"/", "amqp://v:s3cr3tC@"+c+"/"),
		WithReconnectInterval(100*time.Millisecond, 0))
	took := time.Since(start)
	if err == nil {
		t.Fatal("Dial with no reachable endpoint succeeded")
	}
	t.Logf("after %v: %v", took.Round(time.Millisecond), err)
	if took < 600*time.Millisecond {
		t.Errorf("Dial gave up after %v, before its context ended", took)
	}
	msg := err.Error()
	for _, addr := range []string{a, b, c} {
		if !strings.Contains(msg, addr+"/ (") {
			t.Errorf("the error does not name %s", addr)
		}
	}
	if strings.Count(msg, "connection refused") != 3 {
		t.Errorf("the error does not give each node's cause")
	}
	if strings.Contains(msg, "s3cr3t") {
		t.Errorf("the error shows a password")
	}
}

// TestDialMalformedEndpoint: an endpoint that does not parse fails Dial at
// once with an error naming it, password masked.
func TestDialMalformedEndpoint(t *testing.T) {
	for _, bad := range []string{
		"amqp://guest:s3cr3tpw@127.0.0.1:notaport/",
		"amqp://guest:s3cr3 tpw@node3:5672/",
		"http://guest:s3cr3tpw@node3:5672/",
	} {
		_, err := Dial(context.Background(), "amqp://guest:guest@127.0.0.1:5672/",
			WithEndpoints("amqp://guest:guest@127.0.0.1:5673/", bad), WithDialRetry(false))
		if err == nil {
			t.Fatalf("Dial with endpoint %q succeeded", bad)
		}
		t.Logf("%v", err)
		if !strings.Contains(err.Error(), "endpoint 3 of 3") || !strings.Contains(err.Error(), "@127.0.0.1:notaport/") && !strings.Contains(err.Error(), "@node3:5672/") {
			t.Errorf("the error does not name the endpoint: %v", err)
		}
		if strings.Contains(err.Error(), "s3cr3") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// TestReconnectGoesToTheNextEndpoint: two proxies to the broker stand for
// two nodes. When the one the client is on goes down and stays down, each
// connection recovers on the other with one reconnect (the first redial
// goes to the next node, not the lost one), and a publish waits for it.
func TestReconnectGoesToTheNextEndpoint(t *testing.T) {
	brokertest.Require(t)
	first, second := startOutageProxy(t), startOutageProxy(t)
	log := &connLog{}
	name := brokertest.Name(t, "client")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, first.url(), WithEndpoints(second.url()), WithName(name), WithObserver(log),
		WithReconnectInterval(2*time.Second, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if cons, _ := c.ConnectedTo(); cons != first.p.Listen {
		t.Fatalf("on %s, want the first endpoint %s", cons, first.p.Listen)
	}
	first.down()
	start := time.Now()
	if err := c.Publisher().Publish(ctx, &warren.Publishing{RoutingKey: "nowhere"}); err != nil {
		t.Fatalf("publish across the loss of a node: %v", err)
	}
	took := time.Since(start)
	t.Logf("published on the next node %v after the loss", took.Round(time.Millisecond))
	if took > 1500*time.Millisecond {
		t.Errorf("the publish waited %v: longer than a reconnect (the 2 s backoff was used)", took)
	}
	for _, conn := range []string{name + ".consume", name + ".publish"} {
		eventually(t, 5*time.Second, conn+" recovered", func() bool {
			return log.count(conn, func(e warren.ConnectionEvent) bool {
				return e.State == warren.ConnUp && e.Attempt == 1 && e.Endpoint == second.p.Listen
			}) == 1
		})
	}
	if cons, pub := c.ConnectedTo(); cons != second.p.Listen || pub != second.p.Listen {
		t.Fatalf("on %s and %s, want the second endpoint %s", cons, pub, second.p.Listen)
	}
	if n := log.count(name+".consume", func(e warren.ConnectionEvent) bool {
		return e.State == warren.ConnDown && e.Attempt == 0 && e.Endpoint == first.p.Listen
	}); n != 1 {
		t.Errorf("%d losses of the first node reported, want 1:\n%s", n, log)
	}
}
