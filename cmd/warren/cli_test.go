package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/warrentest"
)

func TestEveryHelpGoesToStdoutWithStatusZero(t *testing.T) {
	cmds := [][]string{{}, {"dlq"}}
	for _, c := range commands {
		if c.name != "dlq" {
			cmds = append(cmds, []string{c.name})
		}
	}
	for _, s := range dlqSubs {
		cmds = append(cmds, []string{"dlq", s.name})
	}
	for _, c := range cmds {
		for _, h := range []string{"-h", "--help", "-help"} {
			args := append(append([]string(nil), c...), h)
			r := warrenEnv(t, nil, args...)
			want := strings.TrimSpace("usage: warren " + strings.Join(c, " "))
			if r.code != exitOK || !strings.Contains(r.stdout, want) || r.stderr != "" {
				t.Errorf("warren %s: exit %d, stdout %q, stderr %q; want exit 0 and %q on stdout only", strings.Join(args, " "), r.code, r.stdout, r.stderr, want)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	r := warrenEnv(t, nil, "version")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "warren ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Fatalf("version: %+v", r)
	}
	r = warrenEnv(t, nil, "version", "--json")
	var v versionInfo
	if r.code != exitOK || decode(r.stdout, &v) != nil || v.Module != "github.com/warren-mq/warren" || v.Version == "" || v.Go != runtime.Version() {
		t.Fatalf("version --json: %+v (%+v)", r, v)
	}
}

// jsonError checks that stderr is exactly one JSON object {"error": ...}
// containing want, and returns its text.
func jsonError(t *testing.T, r result, want string) {
	t.Helper()
	var e map[string]any
	dec := json.NewDecoder(strings.NewReader(r.stderr))
	if err := dec.Decode(&e); err != nil || dec.More() || len(e) != 1 {
		t.Errorf("stderr is not one JSON error object: %q (%v)", r.stderr, err)
		return
	}
	if msg, _ := e["error"].(string); !strings.Contains(msg, want) {
		t.Errorf("JSON error %q lacks %q", msg, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty on an error: %q", r.stdout)
	}
}

func TestErrorsAreJSONUnderJSON(t *testing.T) {
	q := brokertest.Name(t, "missing")
	r := warrenCmd(t, "dlq", "list", "--queue", q, "--json")
	if r.code != exitFail {
		t.Errorf("missing queue: exit %d", r.code)
	}
	jsonError(t, r, "queue not found")

	r = warrenEnv(t, nil, "routes", "--file", t.TempDir()+"/none.json", "--json")
	if r.code != exitFail {
		t.Errorf("missing file: exit %d", r.code)
	}
	jsonError(t, r, "none.json")

	for _, args := range [][]string{
		{"dlq", "list", "--json"},                                 // no --queue
		{"dlq", "list", "--json", "--queue", "q", "--limit", "x"}, // bad flag value
		{"dlq", "list", "--json", "--bogus"},                      // unknown flag
		{"topology", "--json", "--service", "s", "--routes", "a", "--retry", "1us"},
	} {
		r := warrenEnv(t, nil, args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code, exitUsage)
		}
		jsonError(t, r, "warren ")
	}
}

func TestPurgeAsksFirst(t *testing.T) {
	f := newFixture(t)
	for i := range 2 {
		f.deadLetter(fmt.Sprint("m", i), "Order.Created", warren.ReasonError, fmt.Errorf("x"))
	}
	url := map[string]string{"AMQP_URL": brokertest.URL()}
	in := func(terminal bool, answer string) *env {
		return &env{getenv: func(k string) string { return url[k] }, stdin: strings.NewReader(answer), terminal: terminal}
	}

	r := warrenIn(t, in(false, "y\n"), "dlq", "purge", "--queue", f.queue)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--yes") || f.depth(f.dlq) != 2 {
		t.Fatalf("not a terminal, no --yes: %+v, depth %d; want a refusal and nothing purged", r, f.depth(f.dlq))
	}
	for _, answer := range []string{"n\n", "\n", "", "yes please\n"} {
		r = warrenIn(t, in(true, answer), "dlq", "purge", "--queue", f.queue)
		if r.code != exitFail || !strings.Contains(r.stderr, "purge 2 messages from "+f.dlq+"? [y/N]") || !strings.Contains(r.stderr, "not purged") || f.depth(f.dlq) != 2 {
			t.Fatalf("answer %q: %+v, depth %d; want the question, no purge", answer, r, f.depth(f.dlq))
		}
	}
	r = warrenIn(t, in(true, "y\n"), "dlq", "purge", "--queue", f.queue)
	if r.code != exitOK || r.stdout != "purged 2 messages from "+f.dlq+"\n" || f.depth(f.dlq) != 0 {
		t.Fatalf("answer y: %+v, depth %d", r, f.depth(f.dlq))
	}
	f.deadLetter("m9", "Order.Created", warren.ReasonError, fmt.Errorf("x"))
	r = warrenIn(t, in(false, ""), "dlq", "purge", "--queue", f.queue, "--yes")
	if r.code != exitOK || strings.Contains(r.stderr, "?") || f.depth(f.dlq) != 0 {
		t.Fatalf("--yes: %+v, depth %d", r, f.depth(f.dlq))
	}
}

func TestReplayDryRunChecksWhatTheBrokerWouldRefuse(t *testing.T) {
	f := newFixture(t)
	missingEx := brokertest.Name(t, "gone")
	missingQ := brokertest.Name(t, "noqueue")
	f.deadLetter("ok", "Order.Created", warren.ReasonError, fmt.Errorf("x"))
	f.deadLetterTo("noexchange", missingEx, "Order.Created")
	f.deadLetterTo("noqueue", "", missingQ)
	f.deadLetterTo("toqueue", "", f.target)

	r := warrenCmd(t, "dlq", "replay", "--queue", f.queue, "--dry-run", "--management", "off")
	if r.code != exitFail {
		t.Errorf("exit %d, want %d: some would fail", r.code, exitFail)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		for _, id := range []string{"ok", "noexchange", "noqueue", "toqueue"} {
			if strings.Contains(l, " "+id+" ") {
				rows[id] = l
			}
		}
	}
	for id, want := range map[string][]string{
		"ok":         {"would replay", noRoutingCheck},
		"toqueue":    {"would replay"},
		"noexchange": {"WOULD FAIL", fmt.Sprintf("exchange %q does not exist", missingEx)},
		"noqueue":    {"WOULD FAIL", "unroutable: the default exchange routes to queue"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[id], w) {
				t.Errorf("row of %s lacks %q: %q", id, w, rows[id])
			}
		}
	}
	if strings.Contains(rows["toqueue"], "not checked") {
		t.Errorf("the default exchange's routing is known without management: %q", rows["toqueue"])
	}
	if !strings.Contains(r.stdout, "dry run: would replay 2 messages from "+f.dlq+"; 2 would not be replayed") {
		t.Errorf("summary: %q", r.stdout)
	}
	if f.depth(f.dlq) != 4 || f.depth(f.target) != 0 {
		t.Fatalf("the dry run moved messages: dlq %d target %d", f.depth(f.dlq), f.depth(f.target))
	}

	r = warrenCmd(t, "dlq", "replay", "--queue", f.queue, "--dry-run", "--management", "off", "--json")
	var out struct {
		Replayed []map[string]any
		Failed   []struct {
			Message map[string]any
			Error   string
		}
	}
	if r.code != exitFail || decode(r.stdout, &out) != nil || len(out.Replayed) != 2 || len(out.Failed) != 2 {
		t.Fatalf("--json: %+v", r)
	}
	if out.Replayed[0]["note"] != noRoutingCheck || out.Failed[0].Error != fmt.Sprintf("exchange %q does not exist", missingEx) ||
		out.Failed[1].Error != fmt.Sprintf("warren: message unroutable: the default exchange routes to queue %q, which does not exist", missingQ) {
		t.Errorf("--json notes and errors: %+v", out)
	}
}

// deadLetterTo puts a message in the DLQ whose origin is exchange and key.
func (f *fixture) deadLetterTo(id, exchange, key string) {
	f.t.Helper()
	msg := warrentest.NewJSONMessage(key, map[string]string{"id": id},
		warrentest.WithMessageID(id), warrentest.WithExchange(exchange), warrentest.WithQueue(f.queue))
	p := deadletter.Publishing(msg, warren.ReasonError, fmt.Errorf("x"), time.Now())
	dc, err := f.ch.PublishWithDeferredConfirmWithContext(context.Background(), p.Exchange, p.RoutingKey, true, false, p.Publishing)
	if err != nil || !dc.Wait() {
		f.t.Fatalf("publish %s: %v", id, err)
	}
}

func TestShowRendersDeathsAndTimes(t *testing.T) {
	f := newFixture(t)
	f.deadLetter("m1", "Order.Created", warren.ReasonError, fmt.Errorf("x"))
	// A message the broker dead-letters itself (TTL expiry) carries x-death.
	ttl := brokertest.Name(t, "ttl")
	brokertest.DeleteQueues(t, ttl)
	if _, err := f.ch.QueueDeclare(ttl, false, false, false, false, amqp.Table{
		"x-message-ttl": int32(1), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": f.dlq,
	}); err != nil {
		t.Fatal(err)
	}
	dc, err := f.ch.PublishWithDeferredConfirmWithContext(context.Background(), "", ttl, true, false, amqp.Publishing{MessageId: "m2", Body: []byte("x")})
	if err != nil || !dc.Wait() {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 10*time.Second, "the broker dead-letters m2", func() bool { return f.depth(f.dlq) == 2 })

	r := warrenCmd(t, "dlq", "show", "--queue", f.queue)
	if r.code != exitOK {
		t.Fatalf("show: %+v", r)
	}
	rfc3339 := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	for _, re := range []string{
		`(?m)^\s+x-warren-failed-at:\s+` + rfc3339 + `$`,
		`(?m)^\s+x-death:$`,
		`(?m)^\s+- expired from queue ` + regexp.QuoteMeta(ttl) + `, once, published to \(default\) with ` + regexp.QuoteMeta(ttl) + `, last at ` + rfc3339 + `$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("show output does not match %s", re)
		}
	}
	for _, bad := range []string{"map[", "+0000 UTC", "[map"} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("show prints a Go dump %q", bad)
		}
	}
}

func TestTopologyRefusesDelaysRetryDelaysRefuses(t *testing.T) {
	for _, list := range []string{"500us,5s,5s", "0s", "-5s", "1500us"} {
		code, out, errOut := runCapture(t, "topology", "--service", "s", "--routes", "a", "--retry", list)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "positive whole milliseconds") {
			t.Errorf("--retry %s: exit %d, stdout %q, stderr %q", list, code, out, errOut)
		}
	}
	// A repeated delay is a valid policy with one wait queue, as a consumer
	// declares it.
	code, out, _ := runCapture(t, "topology", "--service", "s", "--routes", "a", "--retry", "5s,5s,1m", "--json")
	var top warren.Topology
	if code != exitOK || json.Unmarshal([]byte(out), &top) != nil {
		t.Fatalf("--retry 5s,5s,1m: exit %d %s", code, out)
	}
	var names []string
	for _, q := range top.Queues {
		names = append(names, q.Name)
	}
	q := warren.ServiceQueue(warren.EventExchange, "s")
	if want := []string{q, q + ".dlq", q + ".retry.5s", q + ".retry.1m"}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("queues %v, want %v", names, want)
	}
}

func TestRoutesJSONInPrecedenceOrder(t *testing.T) {
	code, out, _ := runCapture(t, "routes", "--service", "s", "--routes", "#,Order.*,Order.Created,*.Created")
	var text []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		text = append(text, strings.Fields(l)[0])
	}
	code2, js, _ := runCapture(t, "routes", "--service", "s", "--routes", "#,Order.*,Order.Created,*.Created", "--json")
	var got []string
	if code != exitOK || code2 != exitOK || json.Unmarshal([]byte(js), &got) != nil {
		t.Fatalf("routes: %d %d %s", code, code2, js)
	}
	if want := []string{"Order.Created", "Order.*", "*.Created", "#"}; fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(text) != fmt.Sprint(want) {
		t.Errorf("routes --json %v, text %v, want %v", got, text, want)
	}
}
