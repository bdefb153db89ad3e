package integration_test

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// proxy forwards TCP connections from a local port to the broker. cut
// drops every forwarded connection and makes new ones fail (accepted, then
// closed before the AMQP handshake) until heal: a network outage during
// which reconnect attempts fail, without touching the shared broker.
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	refuse  bool
	conns   map[net.Conn]bool
	wg      sync.WaitGroup
	stopped bool
}

// newProxy starts a proxy to the broker at url and returns it with url
// rewritten to go through it (same credentials and vhost). It stops when
// the test ends, after the cleanups registered later (the client's).
func newProxy(t *testing.T, url string) (*proxy, string) {
	t.Helper()
	u, err := amqp.ParseURI(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: net.JoinHostPort(u.Host, strconv.Itoa(u.Port)), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.stop)
	u.Host, u.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	proxied := u.String()
	if !strings.Contains(proxied, "@") {
		// URI.String leaves out the default guest credentials; keep them in
		// the URL so the tests can look for its redacted form.
		proxied = strings.Replace(proxied, "://", "://"+u.Username+":"+u.Password+"@", 1)
	}
	return p, proxied
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.refuse || p.stopped {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = true
		p.wg.Add(1)
		p.mu.Unlock()
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	defer p.wg.Done()
	up, err := net.Dial("tcp", p.target)
	if err == nil {
		p.mu.Lock()
		p.conns[up] = true
		p.mu.Unlock()
		done := make(chan struct{})
		go func() { _, _ = io.Copy(up, c); _ = up.Close(); _ = c.Close(); close(done) }()
		_, _ = io.Copy(c, up)
		_ = c.Close()
		_ = up.Close()
		<-done
	}
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut drops every forwarded connection and refuses new ones until heal.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// heal forwards new connections again.
func (p *proxy) heal() {
	p.mu.Lock()
	p.refuse = false
	p.mu.Unlock()
}

func (p *proxy) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}
