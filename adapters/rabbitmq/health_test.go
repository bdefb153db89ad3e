package rabbitmq

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/health"
)

// TestProbesInEachState: the health handler over a client answers live and
// ready while up and consuming; live but not ready before the consumer
// runs and during an outage; neither once recovery gave up.
func TestProbesInEachState(t *testing.T) {
	proxy := startOutageProxy(t)
	client := dialThrough(t, proxy, WithReconnectInterval(100*time.Millisecond, 15))
	srv := httptest.NewServer(health.Handler(client))
	t.Cleanup(srv.Close)
	ask := func(path string) (int, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	expect := func(state string, live, ready int, reason string) {
		t.Helper()
		lc, lb := ask("/livez")
		rc, rb := ask("/readyz")
		t.Logf("%s: /livez %d %q, /readyz %d %q", state, lc, lb, rc, rb)
		if lc != live || rc != ready || !strings.Contains(rb, reason) {
			t.Fatalf("%s: /livez %d, /readyz %d %q; want %d, %d containing %q", state, lc, rc, rb, live, ready, reason)
		}
	}

	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	expect("consumer not running", 200, 503, "is starting")
	runConsumer(t, cons)
	eventually(t, 10*time.Second, "ready", func() bool { return client.Ready() == nil })
	expect("up", 200, 200, "ok")

	proxy.down()
	eventually(t, 5*time.Second, "not ready", func() bool { return client.Ready() != nil })
	expect("outage", 200, 503, "")
	time.Sleep(300 * time.Millisecond)
	proxy.up(t)
	eventually(t, 10*time.Second, "ready again", func() bool { return client.Ready() == nil })
	expect("recovered", 200, 200, "ok")

	proxy.down()
	select {
	case <-client.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("no give-up")
	}
	expect("given up", 503, 503, "recovery gave up")
}
