//go:build brokerfault

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// requireManagement enables the rabbitmq_management plugin for the test
// and, if it was off, disables it again when the test ends. Broker-wide:
// run under the exclusive broker lock.
func requireManagement(t *testing.T) {
	t.Helper()
	brokertest.Require(t)
	out, err := exec.Command("rabbitmq-plugins", "-q", "list", "-e", "-m").CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmq-plugins list: %v\n%s", err, out)
	}
	if !slices.Contains(strings.Fields(string(out)), "rabbitmq_management") {
		if out, err := exec.Command("rabbitmq-plugins", "enable", "rabbitmq_management").CombinedOutput(); err != nil {
			t.Fatalf("rabbitmq-plugins enable: %v\n%s", err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("rabbitmq-plugins", "disable", "rabbitmq_management").CombinedOutput(); err != nil {
				t.Errorf("rabbitmq-plugins disable: %v\n%s", err, out)
			}
		})
	}
	start := time.Now()
	brokertest.Eventually(t, 60*time.Second, "the management API answers", func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:15672/api/overview", nil)
		req.SetBasicAuth("guest", "guest")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Logf("management API up after %v", time.Since(start).Round(time.Millisecond))
	http.DefaultClient.CloseIdleConnections()
}

func TestBrokerManagementTopologyCheckAndReplayDryRun(t *testing.T) {
	requireManagement(t)
	t.Run("topology check finds drift", func(t *testing.T) {
		f := newCheckFixture(t)
		ch := brokertest.Channel(t)
		wait := f.queue + ".retry.5s"
		// Drift: the exchange is direct, the wait queue's TTL is 1s, the
		// DLQ is missing, Order.* is not bound and Foo.# is.
		if err := ch.ExchangeDeclare(f.exchange, warren.KindDirect, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		for _, q := range f.topology.Queues {
			args := q.Args
			switch q.Name {
			case f.queue + ".dlq":
				continue
			case wait:
				args = without(args, "x-message-ttl")
				args["x-message-ttl"] = int32(1000)
			}
			if _, err := ch.QueueDeclare(q.Name, q.Durable, false, false, false, args); err != nil {
				t.Fatal(err)
			}
		}
		for _, key := range []string{"Order.Created", "Foo.#"} {
			if err := ch.QueueBind(f.queue, key, f.exchange, false, nil); err != nil {
				t.Fatal(err)
			}
		}
		r := warrenCmd(t, "topology", "--file", f.file, "--check", "--json")
		var rep checkReport
		if r.code != exitFail || json.Unmarshal([]byte(r.stdout), &rep) != nil {
			t.Fatalf("check: %+v", r)
		}
		detail := map[string]string{}
		for _, x := range rep.Results {
			detail[x.Kind+" "+x.Name] = x.Status + " " + x.Detail
		}
		for k, want := range map[string]string{
			"exchange " + f.exchange:    "DIFFERS kind: wants topic, broker has direct",
			"queue " + f.queue:          "ok",
			"queue " + wait:             "DIFFERS x-message-ttl: wants 5000, broker has 1000",
			"queue " + f.queue + ".dlq": "MISSING",
			"binding " + bindingName(f.exchange, f.queue, "Order.Created"): "ok",
			"binding " + bindingName(f.exchange, f.queue, "Order.*"):       "MISSING",
			"binding " + bindingName(f.exchange, f.queue, "Foo.#"):         "EXTRA",
		} {
			if !strings.HasPrefix(detail[k], want) {
				t.Errorf("%s: %q, want %q", k, detail[k], want)
			}
		}
		if rep.Mode != "management" || !rep.Drift {
			t.Errorf("mode %q drift %v", rep.Mode, rep.Drift)
		}

		// Repair it all: no drift.
		brokertest.DeleteQueues(t, f.queue, wait)
		brokertest.DeleteExchanges(t, f.exchange)
		for _, q := range []string{f.queue, wait} {
			if _, err := ch.QueueDelete(q, false, false, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := ch.ExchangeDelete(f.exchange, false, false); err != nil {
			t.Fatal(err)
		}
		f.declare(t, ch, "")
		r = warrenCmd(t, "topology", "--file", f.file, "--check")
		if r.code != exitOK || !strings.Contains(r.stdout, "checked through the management API") || !strings.Contains(r.stdout, "no drift: 6 ok") {
			t.Fatalf("repaired: %+v", r)
		}
	})
	t.Run("replay dry run checks routing", func(t *testing.T) {
		f := newFixture(t)
		f.deadLetter("routed", "Order.Paid", warren.ReasonError, fmt.Errorf("x"))
		f.deadLetter("lost", "Nobody.Listens", warren.ReasonError, fmt.Errorf("x"))
		r := warrenCmd(t, "dlq", "replay", "--queue", f.queue, "--dry-run")
		if r.code != exitFail || strings.Contains(r.stdout, "not checked") {
			t.Fatalf("dry run: %+v", r)
		}
		var routed, lost string
		for _, l := range strings.Split(r.stdout, "\n") {
			switch {
			case strings.Contains(l, " routed "):
				routed = l
			case strings.Contains(l, " lost "):
				lost = l
			}
		}
		if !strings.HasPrefix(routed, "would replay") || !strings.HasPrefix(lost, "WOULD FAIL") || !strings.Contains(lost, "unroutable") {
			t.Errorf("rows: %q / %q", routed, lost)
		}
		r = warrenCmd(t, "dlq", "replay", "--queue", f.queue, "--dry-run", "--json")
		var out replayOutput
		if r.code != exitFail || json.Unmarshal([]byte(r.stdout), &out) != nil || len(out.Replayed) != 1 || len(out.Failed) != 1 {
			t.Fatalf("--json: %+v", r)
		}
		if want := fmt.Sprintf("warren: message unroutable: no binding of exchange %q routes key %q", f.exchange, "Nobody.Listens"); out.Failed[0].Error != want || out.Replayed[0].Note != "" {
			t.Errorf("--json: failed %q (want %q), note %q", out.Failed[0].Error, want, out.Replayed[0].Note)
		}
		if f.depth(f.dlq) != 2 || f.depth(f.target) != 0 {
			t.Errorf("the dry run moved messages")
		}
	})
}
