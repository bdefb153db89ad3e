package rabbitmq

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/internal/testsupport/tlsbroker"
)

// TestTLSWithTheBrokersCA: Dial with WithTLS trusting the broker's CA
// connects over a verified TLS connection (the broker lists both of the
// client's connections as TLS) and publishes with confirms.
func TestTLSWithTheBrokersCA(t *testing.T) {
	b := tlsbroker.Start(t)
	name := brokertest.Name(t, "client")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, b.URL(), WithTLS(b.ClientTLS()), WithName(name))
	if err != nil {
		t.Fatalf("Dial over TLS with the broker's CA: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Publisher().Publish(ctx, &warren.Publishing{RoutingKey: "nowhere"}); err != nil {
		t.Fatalf("publish over TLS: %v", err)
	}
	eventually(t, 10*time.Second, "two TLS connections listed", func() bool {
		out := brokertest.Rabbitmqctl(t, "-q", "list_connections", "client_properties", "ssl")
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, `{"connection_name","`+name) && strings.HasSuffix(strings.TrimSpace(line), "true") {
				n++
			}
		}
		return n == 2
	})
}

// TestTLSWithAWrongCAIsRefused: a client trusting another CA (same subject
// name, other key) refuses the broker's certificate: Dial fails with the
// x509 error and no connection is made.
func TestTLSWithAWrongCAIsRefused(t *testing.T) {
	b := tlsbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, b.URL(), WithTLS(b.WrongCATLS()), WithDialRetry(false))
	if err == nil {
		_ = c.Close()
		t.Fatal("Dial trusting a wrong CA connected")
	}
	t.Logf("refused: %v", err)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) && !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("Dial error %v, want the certificate refused", err)
	}
}

// TestTLSPerEndpoint: an amqps endpoint list with one WithTLS
// configuration whose ServerName is empty verifies each node against its
// own host name. The first endpoint (127.0.0.2, not in the certificate)
// fails its handshake; the second (127.0.0.1) must then be verified as
// 127.0.0.1, not as the first one's name, which amqp091-go writes into the
// configuration it is given. The caller's configuration is left as it was.
func TestTLSPerEndpoint(t *testing.T) {
	b := tlsbroker.Start(t)
	hangUp := hangUpListener(t, "127.0.0.2:0")
	cfg := b.ClientTLS()
	cfg.ServerName = ""
	name := brokertest.Name(t, "client")
	log := &connLog{}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, "amqps://guest:guest@"+hangUp+"/", WithEndpoints(b.URL()), WithTLS(cfg),
		WithName(name), WithObserver(log), WithDialRetry(false))
	if err != nil {
		t.Fatalf("Dial of an amqps endpoint list: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if cons, pub := c.ConnectedTo(); cons != b.Addr() || pub != b.Addr() {
		t.Fatalf("on %s and %s, want %s", cons, pub, b.Addr())
	}
	if err := c.Publisher().Publish(ctx, &warren.Publishing{RoutingKey: "nowhere"}); err != nil {
		t.Fatalf("publish over TLS: %v", err)
	}
	if cfg.ServerName != "" {
		t.Fatalf("Dial changed the caller's TLS configuration: ServerName %q", cfg.ServerName)
	}
	if n := log.count(name+".consume", func(e warren.ConnectionEvent) bool {
		return e.State == warren.ConnDown && e.Endpoint == hangUp
	}); n != 1 {
		t.Fatalf("the failed first endpoint was not reported:\n%s", log)
	}
}

// hangUpListener accepts TCP connections on addr and closes them at once;
// it returns the address it listens on.
func hangUpListener(t *testing.T, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = l.Close(); <-done })
	return l.Addr().String()
}
