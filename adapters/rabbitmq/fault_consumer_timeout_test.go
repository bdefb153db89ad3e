//go:build brokerfault

package rabbitmq

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// brokerEnv reads a rabbit application variable with rabbitmqctl eval and
// returns a restore function that puts it back (or unsets it).
func brokerEnv(t *testing.T, key, value string) (restore func()) {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", "eval", "application:get_env(rabbit, "+key+").").Output()
	if err != nil {
		t.Fatalf("rabbitmqctl eval get_env %s: %v", key, err)
	}
	old := strings.TrimSpace(string(out))
	brokertest.Rabbitmqctl(t, "eval", "application:set_env(rabbit, "+key+", "+value+").")
	return func() {
		expr := "application:unset_env(rabbit, " + key + ")."
		if v, ok := strings.CutPrefix(old, "{ok,"); ok {
			expr = "application:set_env(rabbit, " + key + ", " + strings.TrimSuffix(v, "}") + ")."
		}
		_ = exec.Command("rabbitmqctl", "eval", expr).Run()
	}
}

// TestBrokerConsumerTimeoutObserved is defect 10 of issue 11: a handler
// slower than the broker's consumer_timeout gets its channel closed with
// PRECONDITION_FAILED and its messages redelivered. The consumer must
// recognise the cause and report it (ConsumerTimeout, with the routing key
// of the oldest unsettled delivery), then consume again. The broker-wide
// setting is lowered for the test and restored in Cleanup.
func TestBrokerConsumerTimeoutObserved(t *testing.T) {
	brokertest.Require(t)
	t.Cleanup(brokerEnv(t, "consumer_timeout", "2000"))
	t.Cleanup(brokerEnv(t, "channel_tick_interval", "500"))
	obs := &consumerEvents{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t)
	release := make(chan struct{})
	r := warren.NewRouter()
	r.HandleFunc("Report.Slow", func(ctx context.Context, _ *warren.Message) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	publishTo(t, context.Background(), client.Publisher(), spec.Exchange.Name, "Report.Slow", `{}`, nil)
	start := time.Now()
	eventually(t, 60*time.Second, "a consumer-timeout event", func() bool { return obs.count(ConsumerTimeout) > 0 })
	close(release)
	obs.mu.Lock()
	var ev ConsumerEvent
	for _, e := range obs.events {
		if e.Kind == ConsumerTimeout {
			ev = e
		}
	}
	obs.mu.Unlock()
	t.Logf("consumer_timeout reported after %v: route %q, %v", time.Since(start), ev.Route, ev.Err)
	if ev.Route != "Report.Slow" {
		t.Errorf("event route %q, want Report.Slow", ev.Route)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
