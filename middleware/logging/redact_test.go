package logging_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/warrentest"
)

// TestLogsRedactCredentials pushes a URL with a password and a password=
// pair through the per-message line and every observer line.
func TestLogsRedactCredentials(t *testing.T) {
	leak := errors.New("dial postgres://app:s3cret@db/orders failed, password=hunter2")
	r, logs := route(t, zapcore.DebugLevel, returning(leak))
	warrentest.Serve(r, order())
	core, obsLogs := observer.New(zapcore.DebugLevel)
	o := logging.NewObserver(zap.New(core))
	o.ObserveSettle(warren.SettleEvent{Queue: "q", Action: warren.ActionDeadLetter, Reason: "error", Err: leak})
	o.ObserveRetry(warren.RetryEvent{Queue: "q", Err: leak})
	o.ObservePublish(warren.PublishEvent{Exchange: "e", Err: leak})
	o.ObserveConnection(warren.ConnectionEvent{Name: "amqp://u:s3cret@h/?token=hunter2", State: warren.ConnDown, Err: leak})
	lines := append(logs.All(), obsLogs.All()...)
	if len(lines) < 4 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var b strings.Builder
		for k, v := range l.ContextMap() {
			b.WriteString(k + "=" + strings.TrimSpace(strings.ReplaceAll(toString(v), "\n", " ")) + " ")
		}
		if text := b.String(); strings.Contains(text, "s3cret") || strings.Contains(text, "hunter2") {
			t.Errorf("line %q leaks: %s", l.Message, text)
		}
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
