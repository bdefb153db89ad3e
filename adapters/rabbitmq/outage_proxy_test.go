package rabbitmq

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/warren-mq/warren"
)

// outageProxy is a toxiproxy (as a library) in front of the broker that
// can refuse every connection for a while (down: no listener, existing
// connections closed) and take them again (up) on the same address, and
// stop the broker reading (a timeout toxic upstream). The internal
// faultproxy has no down/up; this one is the lifecycle tests' own.
type outageProxy struct {
	p *toxiproxy.Proxy
}

func startOutageProxy(t *testing.T) *outageProxy {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, t.Name(), "127.0.0.1:0", "127.0.0.1:5672")
	if err := p.Start(); err != nil {
		t.Fatalf("outage proxy: start: %v", err)
	}
	t.Cleanup(p.Stop)
	return &outageProxy{p: p}
}

// url is the broker's URL through the proxy.
func (x *outageProxy) url() string { return "amqp://guest:guest@" + x.p.Listen + "/" }

// down closes every connection through the proxy and refuses new ones.
func (x *outageProxy) down() { x.p.Stop() }

// up accepts connections again on the same address.
func (x *outageProxy) up(t *testing.T) {
	t.Helper()
	if err := x.p.Start(); err != nil {
		t.Fatalf("outage proxy: up: %v", err)
	}
}

// stopReading makes the broker side all but stop reading: a bandwidth
// toxic of 1 KB/s upstream, so the proxy stops reading the client's socket
// and the client's writes stall once the socket buffers are full (a
// timeout toxic would not do: toxiproxy goes on reading and holds the
// data, so the client's writes never block). The client still receives
// what the broker sends.
func (x *outageProxy) stopReading(t *testing.T) {
	t.Helper()
	js := `{"name":"stop-reading","type":"bandwidth","stream":"upstream","toxicity":1,"attributes":{"rate":1}}`
	if _, err := x.p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		t.Fatalf("outage proxy: add toxic: %v", err)
	}
	// Not removed: a removal, or an update, races inside toxiproxy; its
	// goroutines of this toxic may outlive the test (TestMain ignores them).
}

// stopAnswering holds everything the broker sends (a timeout toxic
// downstream): a new connection's handshake never completes.
func (x *outageProxy) stopAnswering(t *testing.T) {
	t.Helper()
	js := `{"name":"stop-answering","type":"timeout","stream":"downstream","toxicity":1,"attributes":{"timeout":0}}`
	if _, err := x.p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		t.Fatalf("outage proxy: add toxic: %v", err)
	}
}

// connLog records the client's connection events.
type connLog struct {
	warren.NopObserver
	mu     sync.Mutex
	events []warren.ConnectionEvent
}

func (l *connLog) ObserveConnection(e warren.ConnectionEvent) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// count returns how many events of conn match keep.
func (l *connLog) count(conn string, keep func(warren.ConnectionEvent) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Name == conn && keep(e) {
			n++
		}
	}
	return n
}

func (l *connLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.events {
		fmt.Fprintf(&b, "%s %v attempt=%d err=%v\n", e.Name, e.State, e.Attempt, e.Err)
	}
	return b.String()
}
