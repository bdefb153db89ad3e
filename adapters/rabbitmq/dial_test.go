package rabbitmq

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestDialWaitsForTheBroker: Dial before anything listens (the proxy
// refuses connections) connects once the proxy takes them, within its
// context (it failed at once with "connection refused").
func TestDialWaitsForTheBroker(t *testing.T) {
	brokertest.Require(t)
	proxy := startOutageProxy(t)
	proxy.down()
	time.AfterFunc(700*time.Millisecond, func() { proxy.up(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, err := Dial(ctx, proxy.url(), WithName(brokertest.Name(t, "client")), WithReconnect(50*time.Millisecond, 200*time.Millisecond, 0))
	if err != nil {
		t.Fatalf("Dial while the broker comes up: %v", err)
	}
	t.Logf("connected after %v", time.Since(start).Round(time.Millisecond))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDialErrorCountsAttempts: a Dial that never connects says how many
// attempts it made and the last cause; WithDialRetry(false) fails at the
// first.
func TestDialErrorCountsAttempts(t *testing.T) {
	brokertest.Require(t)
	proxy := startOutageProxy(t)
	proxy.down()
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, proxy.url(), WithReconnectInterval(100*time.Millisecond, 0))
	if err == nil || !strings.Contains(err.Error(), "attempts") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Dial error %v: want the number of attempts and the last cause", err)
	}
	t.Logf("%v", err)

	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = Dial(ctx, proxy.url(), WithDialRetry(false))
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("WithDialRetry(false): %v after %v, want a refusal at once", err, time.Since(start))
	}
}

// TestDialErrorHidesPassword: a URL that does not parse is refused
// without its password (url.Parse's error quotes the raw URL).
func TestDialErrorHidesPassword(t *testing.T) {
	for _, raw := range []string{
		"amqp://guest:s3cr3tpw@127.0.0.1:notaport/",
		"amqp://guest:s3cr3%zzpw@127.0.0.1:5672/",
		"amqp://guest:s3cr3tpw@[::1/",
	} {
		_, err := Dial(context.Background(), raw, WithDialRetry(false))
		if err == nil {
			t.Fatalf("Dial(%q) succeeded", raw)
		}
		if strings.Contains(err.Error(), "s3cr3") {
			t.Errorf("Dial error shows the password: %v", err)
		}
	}
}

// TestWithTLSRefusesPlainURL: WithTLS with an amqp:// URL is an error, not
// a plain-text connection.
func TestWithTLSRefusesPlainURL(t *testing.T) {
	url := brokertest.Require(t)
	c, err := Dial(context.Background(), url, WithTLS(&tls.Config{MinVersion: tls.VersionTLS12}))
	if err == nil {
		_ = c.Close()
		t.Fatal("WithTLS with an amqp:// URL connected")
	}
	if !strings.Contains(err.Error(), "amqps://") {
		t.Fatalf("error %v does not say what is wrong", err)
	}
}

// TestWithDialTimeout: against a listener that accepts TCP but never
// answers the AMQP handshake, WithDialTimeout(300ms) fails the dial in
// about that time (the default 30 s would outlast the 5 s context).
func TestWithDialTimeout(t *testing.T) {
	brokertest.Require(t)
	proxy := startOutageProxy(t)
	proxy.stopAnswering(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, proxy.url(), WithDialRetry(false), WithDialTimeout(300*time.Millisecond))
	took := time.Since(start)
	t.Logf("dial failed after %v: %v", took.Round(time.Millisecond), err)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || took > 3*time.Second {
		t.Fatalf("dial: %v after %v, want the dial timeout's failure", err, took)
	}
}

// connectionsNamed lists, from the broker, the timeout (heartbeat) of every
// connection whose client-provided name starts with prefix.
func connectionsNamed(t *testing.T, prefix string) []string {
	t.Helper()
	out := brokertest.Rabbitmqctl(t, "-q", "list_connections", "client_properties", "timeout")
	var timeouts []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `{"connection_name","`+prefix) {
			f := strings.Fields(line)
			timeouts = append(timeouts, f[len(f)-1])
		}
	}
	return timeouts
}

// TestWithHeartbeat: the broker shows the heartbeat the client asked for
// (7 s; the default is 10 s).
func TestWithHeartbeat(t *testing.T) {
	client := newTestClient(t, WithHeartbeat(7*time.Second))
	var got []string
	eventually(t, 10*time.Second, "connections listed", func() bool {
		got = connectionsNamed(t, client.Name())
		return len(got) == 2
	})
	for _, timeout := range got {
		if timeout != "7" {
			t.Fatalf("broker heartbeat timeouts %v, want 7", got)
		}
	}
}

// TestWithSharedConnection: the broker sees one connection for the client
// instead of two.
func TestWithSharedConnection(t *testing.T) {
	client := newTestClient(t, WithSharedConnection())
	time.Sleep(200 * time.Millisecond) // the broker lists connections after their handshake
	if got := connectionsNamed(t, client.Name()); len(got) != 1 {
		t.Fatalf("%d connections named %s on the broker, want 1", len(got), client.Name())
	}
}

// TestDialRefusedCredentialsFailAtOnce: retrying cannot fix a refused
// password, so Dial does not retry it (RabbitMQ itself delays the
// refusal, about 3 s here), and its error hides the password.
func TestDialRefusedCredentialsFailAtOnce(t *testing.T) {
	brokertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, "amqp://guest:wr0ngpw@127.0.0.1:5672/", WithReconnect(50*time.Millisecond, 100*time.Millisecond, 0))
	took := time.Since(start)
	t.Logf("refused after %v: %v", took.Round(time.Millisecond), err)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "after 1 attempt,") {
		t.Fatalf("Dial with a wrong password: %v after %v, want a refusal at the first attempt", err, took)
	}
	if strings.Contains(err.Error(), "wr0ngpw") {
		t.Fatalf("the error shows the password: %v", err)
	}
}
