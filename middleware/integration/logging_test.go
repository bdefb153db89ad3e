package integration_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/logging"
)

// TestLoggingConnectionDownAndUp dials with a URL that carries a password,
// serves a message whose handler fails with that URL in its error, and
// closes the client's connections from the broker side with that URL in
// the reason: the logging observer logs each connection going down (warn,
// with the reason) and coming back (info), and no line logged by the
// observer or the middleware contains the password.
func TestLoggingConnectionDownAndUp(t *testing.T) {
	url := brokertest.Require(t)
	secret, redacted := credentials(t, url)
	sink := newLogSink()
	client, name := dial(t, url, rabbitmq.WithObserver(logging.NewObserver(sink.logger)))
	spec := testSpec(t)
	r := warren.NewRouter()
	r.Use(middleware.CorrelationID, logging.Middleware(sink.logger), middleware.Recover)
	handled := make(chan struct{}, 1)
	r.HandleFunc("Order.Fail", func(ctx context.Context, _ *warren.Message) error {
		logging.FromContext(ctx).Info("calling the ledger")
		defer func() { handled <- struct{}{} }()
		return errors.New("ledger at " + url + " refused")
	})
	run(t, client, r, spec)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	publish(ctx, t, client.Publisher(), spec.Exchange.Name, "Order.Fail", "fail-1")
	waitFor(t, handled, "the handler")
	eventually(t, 10*time.Second, "the dead-letter lines", func() bool {
		return sink.logs.FilterMessage("message dead-lettered").Len() == 1 && sink.logs.FilterMessage("message failed").Len() == 1
	})
	if l := sink.logs.FilterMessage("calling the ledger").FilterField(zap.String("message_id", "fail-1")).Len(); l != 1 {
		t.Errorf("the handler's logger wrote %d lines with the message id, want 1", l)
	}

	reason := fmt.Sprintf("maintenance, see %s", url)
	if n := closeConnections(t, name, reason); n != 2 {
		t.Fatalf("closed %d connections named %s*, want 2", n, name)
	}
	for _, conn := range []string{name + ".consume", name + ".publish"} {
		eventually(t, 30*time.Second, conn+" logged down then up", func() bool { ok, _ := downThenUp(sink.connLines(conn)); return ok })
		lines := sink.connLines(conn)
		if lines[0] != "info connection up" {
			t.Errorf("%s: first line %q, want the first connection's \"info connection up\"", conn, lines[0])
		}
		if _, recovered := downThenUp(lines); !recovered {
			t.Errorf("%s: after the outage the observer logged %v: \"connection up\", not \"connection recovered\" (the transport reports ConnUp with Attempt 0)", conn, lines)
		}
		down := sink.logs.FilterMessage("connection down").FilterField(zap.String("connection", conn)).All()
		if errText, _ := down[0].ContextMap()["error"].(string); !strings.Contains(errText, "maintenance") || !strings.Contains(errText, redacted) {
			t.Errorf("%s: down line's error %q, want the broker's reason with the URL redacted", conn, errText)
		}
	}

	// The client still works after the recovery.
	publish(ctx, t, client.Publisher(), spec.Exchange.Name, "Order.Fail", "fail-2")
	waitFor(t, handled, "the handler")
	if !strings.Contains(sink.text(), redacted) {
		t.Errorf("no log line holds the redacted URL %q: the test did not log what it meant to", redacted)
	}
	noSecret(t, sink, secret)
}

// TestLoggingFailedReconnects cuts the client's network path to the broker
// (a TCP proxy in between) and refuses it for a while: every failed
// reconnect attempt is logged at warn with its attempt number and the dial
// error, whose URL has its password redacted; once the path heals, both
// connections are logged up again.
func TestLoggingFailedReconnects(t *testing.T) {
	secret, redacted := credentials(t, brokertest.Require(t))
	px, url := newProxy(t, brokertest.URL())
	sink := newLogSink()
	_, name := dial(t, url, rabbitmq.WithObserver(logging.NewObserver(sink.logger)))

	px.cut()
	failed := func(conn string) []observer.LoggedEntry {
		return sink.logs.FilterMessage("connection down").FilterField(zap.String("connection", conn)).Filter(func(e observer.LoggedEntry) bool {
			a, _ := e.ContextMap()["attempt"].(int64)
			return a >= 2
		}).All()
	}
	conns := []string{name + ".consume", name + ".publish"}
	for _, conn := range conns {
		eventually(t, 20*time.Second, conn+": two failed reconnect attempts", func() bool { return len(failed(conn)) > 0 })
	}
	px.heal()
	for _, conn := range conns {
		eventually(t, 20*time.Second, conn+" back up", func() bool { ok, _ := downThenUp(sink.connLines(conn)); return ok })
		e := failed(conn)[0]
		errText, _ := e.ContextMap()["error"].(string)
		if e.Level != zapcore.WarnLevel || !strings.Contains(errText, redacted) || !strings.Contains(errText, conn) {
			t.Errorf("%s: failed attempt logged as %v %q, want a warning whose error names the connection and the redacted URL", conn, e.Level, errText)
		}
		lines := sink.connLines(conn)
		if last := lines[len(lines)-1]; last != "info connection up" && last != "info connection recovered" {
			t.Errorf("%s: last line %q, want it up", conn, last)
		}
	}
	noSecret(t, sink, secret)
}
