package tlsbroker_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/tlsbroker"
)

// The right CA: amqp091-go's DialTLS completes a verified handshake and an
// AMQP session (a channel, a queue declared and gone with it).
func TestDialTLSWithTheBrokersCAConnects(t *testing.T) {
	b := tlsbroker.Start(t)
	conn, err := amqp.DialTLS(b.URL(), b.ClientTLS())
	if err != nil {
		t.Fatalf("DialTLS %s: %v", b.Addr(), err)
	}
	defer conn.Close()

	state := conn.ConnectionState()
	if !state.HandshakeComplete || len(state.VerifiedChains) == 0 {
		t.Fatalf("handshake complete %v, verified chains %d: want a verified TLS connection",
			state.HandshakeComplete, len(state.VerifiedChains))
	}
	if !verifies(state.PeerCertificates[0], b.CAPool()) {
		t.Fatal("the server's certificate does not chain to the broker's CA")
	}

	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("channel over TLS: %v", err)
	}
	defer ch.Close()
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("declare over TLS: %v", err)
	}
}

// A wrong CA: the client refuses the server's certificate, with an x509
// unknown-authority error, and no connection is made.
func TestDialTLSWithAWrongCAIsRefused(t *testing.T) {
	b := tlsbroker.Start(t)
	conn, err := amqp.DialTLS(b.URL(), b.WrongCATLS())
	if err == nil {
		_ = conn.Close()
		t.Fatal("DialTLS with a CA that did not sign the server certificate connected")
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("DialTLS with a wrong CA: %v (%T), want an x509.UnknownAuthorityError", err, err)
	}
	t.Logf("refused as expected: %v", err)
}

// The certificate names 127.0.0.1 (IP SAN) and localhost (DNS SAN) and
// nothing else: both verify, another name is refused.
func TestServerCertificateNamesOnlyLoopback(t *testing.T) {
	b := tlsbroker.Start(t)
	for _, name := range []string{"localhost", "127.0.0.1"} {
		cfg := b.ClientTLS()
		cfg.ServerName = name
		conn, err := tls.Dial("tcp", b.Addr(), cfg)
		if err != nil {
			t.Errorf("ServerName %q: %v", name, err)
			continue
		}
		_ = conn.Close()
	}
	cfg := b.ClientTLS()
	cfg.ServerName = "broker.example.com"
	conn, err := tls.Dial("tcp", b.Addr(), cfg)
	if err == nil {
		_ = conn.Close()
		t.Fatal("a certificate for localhost verified as broker.example.com")
	}
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Fatalf("ServerName broker.example.com: %v (%T), want an x509.HostnameError", err, err)
	}
}

// The plain AMQP port is untouched and the TLS port speaks only TLS: a
// plaintext AMQP dial to it fails.
func TestTLSPortRefusesPlainAMQP(t *testing.T) {
	b := tlsbroker.Start(t)
	cfg := amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)}
	conn, err := amqp.DialConfig("amqp://guest:guest@"+b.Addr()+"/", cfg)
	if err == nil {
		_ = conn.Close()
		t.Fatal("a plaintext AMQP connection to the TLS listener was accepted")
	}
	t.Logf("plaintext refused as expected: %v", err)
}

// warren's own Dial with WithTLS connects through the listener with the
// right CA (and publishes with a confirm), and fails with the wrong one.
func TestWarrenDialWithTLS(t *testing.T) {
	b := tlsbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	client, err := rabbitmq.Dial(ctx, b.URL(), rabbitmq.WithName("tlsbroker-test"), rabbitmq.WithTLS(b.ClientTLS()))
	if err != nil {
		t.Fatalf("rabbitmq.Dial with WithTLS: %v", err)
	}
	defer client.Close()
	ch, err := client.Channel(ctx)
	if err != nil {
		t.Fatalf("channel: %v", err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatalf("declare: %v", err)
	}
	msg := &warren.Publishing{RoutingKey: q.Name, Publishing: amqp.Publishing{Body: []byte("over TLS")}}
	if err := client.Publisher().Publish(ctx, msg); err != nil {
		t.Fatalf("confirmed publish over TLS: %v", err)
	}
	got, ok, err := ch.Get(q.Name, true)
	if err != nil || !ok || string(got.Body) != "over TLS" {
		t.Fatalf("get: ok %v, body %q, err %v; want the message published over TLS", ok, got.Body, err)
	}

	wrongCtx, wrongCancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer wrongCancel()
	bad, err := rabbitmq.Dial(wrongCtx, b.URL(), rabbitmq.WithName("tlsbroker-test-wrong-ca"),
		rabbitmq.WithTLS(b.WrongCATLS()), rabbitmq.WithReconnect(50*time.Millisecond, 100*time.Millisecond, 1))
	if err == nil {
		_ = bad.Close()
		t.Fatal("rabbitmq.Dial with a wrong CA connected")
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("rabbitmq.Dial with a wrong CA: %v, want an x509.UnknownAuthorityError in the chain", err)
	}
}

func verifies(cert *x509.Certificate, roots *x509.CertPool) bool {
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: tlsbroker.ServerName})
	return err == nil
}
