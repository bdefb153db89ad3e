// Package faultproxy puts a toxiproxy (github.com/Shopify/toxiproxy/v2,
// as a library, in the test process) between a test's client and
// RabbitMQ, for network faults: cuts, a cut after a number of bytes,
// latency, a peer that stops reading.
package faultproxy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
)

// Proxy is one running proxy to the broker.
type Proxy struct {
	p *toxiproxy.Proxy
}

// Start starts a proxy on a free loopback port to upstream (host:port)
// and stops it when the test ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, t.Name(), "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("faultproxy: start: %v", err)
	}
	t.Cleanup(p.Stop)
	return &Proxy{p: p}
}

// URL returns amqpURL with its host and port replaced by the proxy's.
func (x *Proxy) URL(amqpURL string) string {
	scheme, rest, _ := strings.Cut(amqpURL, "://")
	auth, hostPath, ok := strings.Cut(rest, "@")
	if !ok {
		auth, hostPath = "", rest
	}
	_, path, _ := strings.Cut(hostPath, "/")
	out := scheme + "://"
	if auth != "" {
		out += auth + "@"
	}
	return out + x.Addr() + "/" + path
}

// Addr is the proxy's listening address.
func (x *Proxy) Addr() string { return x.p.Listen }

// Cut closes every connection through the proxy (a TCP close, as a
// broker or a load balancer going away) and goes on accepting new ones.
func (x *Proxy) Cut(t testing.TB) {
	t.Helper()
	x.p.Stop()
	if err := x.p.Start(); err != nil {
		t.Fatalf("faultproxy: restart: %v", err)
	}
}

// LimitUpstream closes each connection once the client has sent n more
// bytes through it (toxiproxy's limit_data): with n chosen, a cut lands on
// a chosen point of a protocol exchange.
func (x *Proxy) LimitUpstream(t testing.TB, n int64) {
	t.Helper()
	x.add(t, "limit", "upstream", &toxics.LimitDataToxic{Bytes: n})
}

// Stall stops all data in both directions, without closing anything (a
// silent partition: no FIN, no RST), until Remove(t, "stall-up") and
// Remove(t, "stall-down"), or Unstall.
func (x *Proxy) Stall(t testing.TB) {
	t.Helper()
	x.add(t, "stall-up", "upstream", &toxics.TimeoutToxic{Timeout: 0})
	x.add(t, "stall-down", "downstream", &toxics.TimeoutToxic{Timeout: 0})
}

// Unstall lets data through again after Stall.
func (x *Proxy) Unstall(t testing.TB) {
	t.Helper()
	x.Remove(t, "stall-up")
	x.Remove(t, "stall-down")
}

func (x *Proxy) add(t testing.TB, name, stream string, toxic toxics.Toxic) {
	t.Helper()
	js := fmt.Sprintf(`{"name":%q,"type":%q,"stream":%q,"toxicity":1,"attributes":%s}`, name, toxicType(toxic), stream, attributes(toxic))
	if _, err := x.p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		t.Fatalf("faultproxy: add %s: %v", name, err)
	}
}

// Remove removes the toxic named name ("limit").
func (x *Proxy) Remove(t testing.TB, name string) {
	t.Helper()
	if err := x.p.Toxics.RemoveToxic(context.Background(), name); err != nil {
		t.Fatalf("faultproxy: remove %s: %v", name, err)
	}
}

func toxicType(toxic toxics.Toxic) string {
	switch toxic.(type) {
	case *toxics.LimitDataToxic:
		return "limit_data"
	case *toxics.TimeoutToxic:
		return "timeout"
	default:
		panic(fmt.Sprintf("faultproxy: toxic %T not supported", toxic))
	}
}

func attributes(toxic toxics.Toxic) string {
	switch x := toxic.(type) {
	case *toxics.LimitDataToxic:
		return fmt.Sprintf(`{"bytes":%d}`, x.Bytes)
	case *toxics.TimeoutToxic:
		return fmt.Sprintf(`{"timeout":%d}`, x.Timeout)
	default:
		return "{}"
	}
}
