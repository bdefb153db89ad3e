package integration_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// logSink is a logger that records every entry twice: structured, for
// assertions, and encoded as JSON lines, to search for secrets in
// everything that would reach a log file.
type logSink struct {
	logger *zap.Logger
	logs   *observer.ObservedLogs
	mu     sync.Mutex
	buf    bytes.Buffer
}

func newLogSink() *logSink {
	s := &logSink{}
	obs, logs := observer.New(zapcore.DebugLevel)
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	s.logger, s.logs = zap.New(zapcore.NewTee(obs, zapcore.NewCore(enc, zapcore.AddSync(s), zapcore.DebugLevel))), logs
	return s
}

// Write implements io.Writer for the JSON core.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// connLines returns the connection lines logged about connection, as
// "level message" strings in order.
func (s *logSink) connLines(connection string) []string {
	var out []string
	for _, e := range s.logs.FilterField(zap.String("connection", connection)).All() {
		out = append(out, e.Level.String()+" "+e.Message)
	}
	return out
}

// credentials returns "user:password" of url, the text that must never be
// logged; the test is skipped if url has no password.
func credentials(t *testing.T, url string) (string, string) {
	t.Helper()
	u, err := amqp.ParseURI(url)
	if err != nil {
		t.Fatalf("parse %s: %v", brokertest.Redact(url), err)
	}
	if u.Password == "" {
		t.Skip("the broker URL has no password to leak")
	}
	return u.Username + ":" + u.Password, u.Username + ":xxxxx@"
}

// noSecret fails t if secret appears anywhere in what was logged.
func noSecret(t *testing.T, s *logSink, secret string) {
	t.Helper()
	for _, line := range strings.Split(s.text(), "\n") {
		if strings.Contains(line, secret) {
			t.Errorf("a log line carries the password: %s", line)
		}
	}
}

// downThenUp reports whether lines hold a "connection down" warning
// followed by an info line bringing the connection back; and whether that
// line says "connection recovered".
func downThenUp(lines []string) (ok, recovered bool) {
	down := false
	for _, l := range lines {
		switch {
		case l == "warn connection down":
			down = true
		case down && (l == "info connection up" || l == "info connection recovered"):
			return true, l == "info connection recovered"
		}
	}
	return false, false
}
