// Package tlsbroker gives a test a TLS (amqps) listener on the shared
// RabbitMQ, with a certificate authority and a server certificate the test
// generates, so clients can be tested against a verified TLS connection
// and against one they must refuse.
//
// Start adds an AMQP 0-9-1 TLS listener on a free loopback port to the
// running broker (rabbitmqctl eval rabbit_networking:start_ssl_listener;
// the process must be allowed to run rabbitmqctl, e.g. root) and removes
// it, and its files, when the test ends. The broker's other listeners are
// not touched, so tests using it run under the shared broker lock.
package tlsbroker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// ServerName is the host name in the server certificate that ClientTLS
// verifies. The certificate also names the IP addresses 127.0.0.1 and ::1.
const ServerName = "localhost"

// readyTimeout bounds the wait for the new listener's first TLS handshake.
const readyTimeout = 15 * time.Second

// Broker is a TLS listener on the shared RabbitMQ, made for one test.
type Broker struct {
	port  int
	dir   string // the certificate files
	ca    *authority
	wrong *authority
}

// Start generates a CA and a server certificate for localhost, 127.0.0.1
// and ::1 (ECDSA P-256, valid for a day), starts a TLS listener with it on
// a free port of 127.0.0.1 on the running broker, and waits until the
// listener completes a verified TLS handshake. When t ends (passed or
// failed) it stops exactly that listener, closing its connections, and
// deletes the certificate files. It skips t under -short and fails it if
// the listener cannot be started.
func Start(t testing.TB) *Broker {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs RabbitMQ and rabbitmqctl (run without -short)")
	}
	ca, err := newAuthority("warren test CA")
	if err != nil {
		t.Fatalf("tlsbroker: %v", err)
	}
	wrong, err := newAuthority("warren test CA") // same name, other key: only the signature tells them apart
	if err != nil {
		t.Fatalf("tlsbroker: %v", err)
	}
	leaf, err := ca.issueServer([]string{ServerName}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
	if err != nil {
		t.Fatalf("tlsbroker: %v", err)
	}
	keyPEM, err := leaf.keyPEM()
	if err != nil {
		t.Fatalf("tlsbroker: %v", err)
	}
	files, err := writeCertFiles(ca.certPEM(), leaf.certPEM(), keyPEM)
	if err != nil {
		t.Fatalf("tlsbroker: write certificate files: %v", err)
	}
	// Registered first, so it runs after the listener is stopped.
	t.Cleanup(func() {
		if err := files.remove(); err != nil {
			t.Errorf("tlsbroker: remove %s: %v", files.dir, err)
		}
	})

	b := &Broker{ca: ca, wrong: wrong, dir: files.dir}
	b.port = listen(t, files)
	b.waitReady(t)
	return b
}

// listen starts the listener on a free port, retrying when another
// process takes the port first, and registers its removal.
func listen(t testing.TB, files *certFiles) int {
	t.Helper()
	var err error
	for range 5 {
		var port int
		port, err = freePort()
		if err != nil {
			t.Fatalf("tlsbroker: free port: %v", err)
		}
		start := time.Now()
		err = startListener(context.Background(), port, files)
		if errors.Is(err, errAddrInUse) {
			continue // someone else's port now: never stop it
		}
		if err == nil || !errors.Is(err, errRefused) {
			// Started, or unknown: stop it when the test ends either way.
			registerStop(t, port, err == nil)
		}
		if err != nil {
			t.Fatalf("tlsbroker: %v", err)
		}
		t.Logf("tlsbroker: TLS listener on %s (started in %v)", addr(port), time.Since(start).Round(time.Millisecond))
		return port
	}
	t.Fatalf("tlsbroker: no free port after 5 tries: %v", err)
	return 0
}

// registerStop stops the listener on port when t ends. If it is known to
// have started, finding it already gone is an error.
func registerStop(t testing.TB, port int, started bool) {
	t.Cleanup(func() {
		stopped, err := stopListener(context.Background(), port)
		switch {
		case err != nil:
			t.Errorf("tlsbroker: stop listener on %s: %v", addr(port), err)
		case started && !stopped:
			t.Errorf("tlsbroker: listener on %s was already gone at cleanup", addr(port))
		}
	})
}

// waitReady waits until the listener completes a verified TLS handshake.
func (b *Broker) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: b.ClientTLS()}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := d.DialContext(ctx, "tcp", b.Addr())
		cancel()
		if err == nil {
			_ = conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tlsbroker: listener on %s gave no TLS handshake within %v: %v", b.Addr(), readyTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URL returns the listener's AMQP URL, amqps://guest:guest@127.0.0.1:<port>/
// (guest may log in only from loopback, which this is).
func (b *Broker) URL() string { return fmt.Sprintf("amqps://guest:guest@%s/", b.Addr()) }

// Addr returns the listener's address, 127.0.0.1:<port>.
func (b *Broker) Addr() string { return addr(b.port) }

// Port returns the listener's TCP port.
func (b *Broker) Port() int { return b.port }

// CAPool returns a pool holding only the CA that signed the server
// certificate.
func (b *Broker) CAPool() *x509.CertPool { return b.ca.pool() }

// ClientTLS returns a new client configuration that trusts only the
// broker's CA and verifies the server as ServerName. Each call returns a
// fresh value the caller may change.
func (b *Broker) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: b.CAPool(), ServerName: ServerName}
}

// WrongCAPool returns a pool holding only a different CA, one that did not
// sign the server certificate (it has the same subject name, so only the
// signature check tells them apart): a client trusting it must refuse the
// broker.
func (b *Broker) WrongCAPool() *x509.CertPool { return b.wrong.pool() }

// WrongCATLS returns a new client configuration like ClientTLS that
// trusts only the CA of WrongCAPool.
func (b *Broker) WrongCATLS() *tls.Config {
	return &tls.Config{RootCAs: b.WrongCAPool(), ServerName: ServerName}
}
