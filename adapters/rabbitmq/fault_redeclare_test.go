package rabbitmq

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/internal/testsupport/faultproxy"
)

// TestCutDuringRedeclareIsRetried is defect 5 of issue 11: a connection
// cut while the consumer re-declares its topology after a reconnect is a
// transient error, not a *TopologyError that ends Run. Through a fault
// proxy, each new connection is cut after n bytes from the client, for a
// sweep of n that lands cuts in the handshake, the channel opening and
// the declarations; after each, the limit is lifted: Run must not have
// returned, and consuming must resume.
func TestCutDuringRedeclareIsRetried(t *testing.T) {
	url := brokertest.Require(t)
	proxy := faultproxy.Start(t, "127.0.0.1:5672")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := Dial(ctx, proxy.URL(url), WithName(brokertest.Name(t, "client")), WithReconnect(20*time.Millisecond, 200*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	feeder := newTestClient(t)
	spec := testSpec(t)
	var handled atomic.Int64
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { handled.Add(1); return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cons.Run(context.Background()) }()
	t.Cleanup(func() { _ = cons.Shutdown(context.Background()) })
	publishTo(t, ctx, feeder.Publisher(), spec.Exchange.Name, "Order.Created", `{}`, nil)
	eventually(t, 10*time.Second, "the first message handled", func() bool { return handled.Load() == 1 })
	for n := int64(700); n <= 1500; n += 50 {
		proxy.LimitUpstream(t, n)
		proxy.Cut(t)
		time.Sleep(400 * time.Millisecond) // redials, each cut at n bytes
		proxy.Remove(t, "limit")
		select {
		case err := <-errc:
			t.Fatalf("a cut after %d bytes of a new connection ended Run: %v", n, err)
		default:
		}
		want := handled.Load() + 1
		publishTo(t, ctx, feeder.Publisher(), spec.Exchange.Name, "Order.Created", `{}`, nil)
		eventually(t, 10*time.Second, "consuming to resume", func() bool { return handled.Load() >= want })
	}
	t.Logf("%d messages handled across %d cut points", handled.Load(), (1500-700)/50+1)
}
