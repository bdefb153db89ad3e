package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/warrentest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// warrenCmd runs the command in-process with the test broker in AMQP_URL.
func warrenCmd(t *testing.T, args ...string) result {
	t.Helper()
	return warrenEnv(t, map[string]string{"AMQP_URL": brokertest.URL()}, args...)
}

func warrenEnv(t *testing.T, envs map[string]string, args ...string) result {
	t.Helper()
	return warrenIn(t, &env{getenv: func(k string) string { return envs[k] }, stdin: strings.NewReader("")}, args...)
}

// warrenIn runs the command in e, its stdout and stderr captured.
func warrenIn(t *testing.T, e *env, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e.stdout, e.stderr = &stdout, &stderr
	code := run(context.Background(), args, e)
	r := result{code, stdout.String(), stderr.String()}
	t.Logf("warren %s -> %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// fixture is a work queue with a DLQ holding dead-lettered messages, and an
// exchange with a target queue bound to "Order.*" (which a replay, going
// back to the work queue only, must not reach).
type fixture struct {
	t                            *testing.T
	ch                           *amqp.Channel
	queue, dlq, exchange, target string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ch := brokertest.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ch: ch, queue: brokertest.Name(t, "work"), exchange: brokertest.Name(t, "events"), target: brokertest.Name(t, "target")}
	f.dlq = warren.DeadLetterQueue(f.queue)
	brokertest.DeleteQueues(t, f.queue, f.dlq, f.target, deadletter.ReplayQueue(f.queue))
	brokertest.DeleteExchanges(t, f.exchange)
	for _, q := range []string{f.queue, f.dlq, f.target} {
		if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.ExchangeDeclare(f.exchange, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(f.target, "Order.*", f.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) deadLetter(id, key, reason string, err error) {
	f.t.Helper()
	msg := warrentest.NewJSONMessage(key, map[string]string{"id": id},
		warrentest.WithMessageID(id), warrentest.WithExchange(f.exchange), warrentest.WithQueue(f.queue), warrentest.WithAttempt(2))
	msg.Route = "Order.*"
	p := deadletter.Publishing(msg, reason, err, time.Now())
	dc, perr := f.ch.PublishWithDeferredConfirmWithContext(context.Background(), p.Exchange, p.RoutingKey, true, false, p.Publishing)
	if perr != nil || !dc.Wait() {
		f.t.Fatalf("publish %s: %v", id, perr)
	}
}

// depthSoon waits up to 10 s for q to hold n messages (a replay reaches the
// work queue through its replay queue, a moment after it is confirmed) and
// returns its depth.
func (f *fixture) depthSoon(q string, n int) int {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.depth(q) != n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return f.depth(q)
}

func (f *fixture) depth(q string) int {
	f.t.Helper()
	n, err := f.ch.QueueDeclarePassive(q, false, false, false, false, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return n.Messages
}

func TestUsage(t *testing.T) {
	r := warrenEnv(t, nil)
	if r.code != exitUsage || !strings.Contains(r.stderr, "usage: warren") || !strings.Contains(r.stderr, "dlq") {
		t.Errorf("no arguments: %+v", r)
	}
	r = warrenEnv(t, nil, "help")
	if r.code != exitOK || !strings.Contains(r.stdout, "dlq") {
		t.Errorf("help: %+v", r)
	}
	for _, args := range [][]string{{"frobnicate"}, {"frobnicate", "--queue", "x"}} {
		r = warrenEnv(t, nil, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, fmt.Sprintf("unknown command %q", args[0])) || !strings.Contains(r.stderr, "usage: warren") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	for _, args := range [][]string{{"routes"}, {"topology"}} {
		if r = warrenEnv(t, nil, args...); r.code != exitUsage || !strings.Contains(r.stderr, "usage: warren "+args[0]) {
			t.Errorf("%v without a source: %+v", args, r)
		}
	}
	r = warrenEnv(t, nil, "dlq", "drain", "--queue", "x")
	if r.code != exitUsage || !strings.Contains(r.stderr, `unknown subcommand "drain"`) {
		t.Errorf("dlq drain: %+v", r)
	}
	r = warrenEnv(t, nil, "dlq")
	if r.code != exitUsage || !strings.Contains(r.stderr, "list|show|replay|purge") {
		t.Errorf("dlq alone: %+v", r)
	}
	for _, args := range [][]string{
		{"dlq", "list"}, // no queue
		{"dlq", "list", "--queue", "q", "--limit", "-1"}, // negative limit
		{"dlq", "list", "--queue", "q", "--dry-run"},     // dry-run is for replay and purge
		{"dlq", "purge", "--queue", "q", "--reason", "x"},
		{"dlq", "list", "--queue", "q", "extra"},
	} {
		if r := warrenEnv(t, nil, args...); r.code != exitUsage || r.stderr == "" {
			t.Errorf("%v: %+v, want a usage error", args, r)
		}
	}
	if r := warrenEnv(t, nil, "dlq", "replay", "-h"); r.code != exitOK || !strings.Contains(r.stdout, "-dry-run") {
		t.Errorf("dlq replay -h: %+v", r)
	}
}

func TestPasswordsAreNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-pw"
	for name, env := range map[string]map[string]string{
		"refused":    {"AMQP_URL": "amqp://admin:" + secret + "@127.0.0.1:1/"},
		"bad auth":   {"AMQP_URL": "amqp://nosuchuser:" + secret + "@" + strings.TrimPrefix(strings.SplitN(brokertest.URL(), "@", 2)[1], "")},
		"unparsable": {"AMQP_URL": "amqp://admin:" + secret + "%zz@127.0.0.1/"},
		"bad scheme": {"AMQP_URL": "http://admin:" + secret + "@127.0.0.1/"},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "bad auth" {
				brokertest.Require(t) // a real broker refuses the login
			}
			r := warrenEnv(t, env, "dlq", "list", "--queue", "q")
			if r.code != exitFail {
				t.Errorf("exit %d, want %d", r.code, exitFail)
			}
			if strings.Contains(r.stdout+r.stderr, secret) || strings.Contains(r.stdout+r.stderr, "%zz") {
				t.Errorf("the password was printed: %q", r.stderr)
			}
			if r.stderr == "" {
				t.Error("no error message")
			}
		})
	}
	// --url wins over AMQP_URL, and is redacted the same way.
	r := warrenEnv(t, map[string]string{"AMQP_URL": brokertest.URL()}, "dlq", "list", "--queue", "q", "--url", "amqp://admin:"+secret+"@127.0.0.1:1/")
	if r.code != exitFail || !strings.Contains(r.stderr, "amqp://admin:xxxxx@127.0.0.1:1/") || strings.Contains(r.stderr, secret) {
		t.Errorf("--url: %+v", r)
	}
}

func TestListAndShow(t *testing.T) {
	f := newFixture(t)
	f.deadLetter("m1", "Order.Created", warren.ReasonError, fmt.Errorf("db down"))
	f.deadLetter("m2", "Order.Paid", warren.ReasonPermanent, fmt.Errorf("invalid amount\n\x1b[31mred\x1b[0m"))
	f.deadLetter("m3", "Order.Created", warren.ReasonError, &warren.PanicError{Value: "boom", Stack: []byte("goroutine 7 [running]:\nmain.handler()")})

	r := warrenCmd(t, "dlq", "list", "--queue", f.queue)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "MESSAGE ID") || !strings.HasPrefix(lines[1], "m1 ") || !strings.HasPrefix(lines[4], "3 of 3 messages in "+f.dlq) {
		t.Fatalf("list output:\n%s", r.stdout)
	}
	// Aligned columns: REASON starts at the same offset on every row.
	col := strings.Index(lines[0], "REASON")
	for _, l := range lines[1:4] {
		if !strings.HasPrefix(l[col:], "error") && !strings.HasPrefix(l[col:], "permanent") {
			t.Errorf("column REASON not aligned in %q", l)
		}
	}
	if !strings.Contains(lines[2], "permanent") || !strings.Contains(lines[2], f.exchange+" Order.Paid") || !strings.Contains(lines[2], "invalid amount") {
		t.Errorf("m2 row %q", lines[2])
	}
	if strings.Contains(r.stdout, "\x1b") {
		t.Error("a terminal escape sequence from a header reached the output")
	}
	if f.depth(f.dlq) != 3 {
		t.Errorf("list consumed messages: depth %d", f.depth(f.dlq))
	}

	// The .dlq name itself works too, and the filters apply.
	r = warrenCmd(t, "dlq", "list", "--queue", f.dlq, "--reason", "error", "--limit", "1")
	if r.code != exitOK || !strings.Contains(r.stdout, "m1") || strings.Contains(r.stdout, "m3") || !strings.Contains(r.stdout, "1 of 3 messages") {
		t.Errorf("filtered list: %+v", r)
	}

	r = warrenCmd(t, "dlq", "show", "--queue", f.queue, "--id", "m3")
	for _, want := range []string{"message m3 (1 of 1)", "reason:", "warren: handler panicked: boom", "stack trace:", "    goroutine 7 [running]:", "    main.handler()",
		"x-warren-queue:", `{"id":"m3"}`, "application/json", "attempt:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "m1") {
		t.Error("show --id m3 shows m1")
	}

	r = warrenCmd(t, "dlq", "list", "--queue", f.queue, "--reason", "decode")
	if r.code != exitOK || !strings.Contains(r.stdout, "no message matches in "+f.dlq+" (3 messages)") {
		t.Errorf("no match: %+v", r)
	}
}

func TestListJSON(t *testing.T) {
	f := newFixture(t)
	f.deadLetter("m1", "Order.Created", warren.ReasonError, fmt.Errorf("db down"))
	f.deadLetter("m2", "Order.Paid", warren.ReasonPermanent, fmt.Errorf("invalid"))

	r := warrenCmd(t, "dlq", "list", "--queue", f.queue, "--json")
	var out struct {
		Queue    string
		Depth    int
		Messages []map[string]any
	}
	if r.code != exitOK || decode(r.stdout, &out) != nil {
		t.Fatalf("list --json: %+v", r)
	}
	if out.Queue != f.dlq || out.Depth != 2 || len(out.Messages) != 2 {
		t.Fatalf("list --json: %+v", out)
	}
	m := out.Messages[1]
	if m["message_id"] != "m2" || m["reason"] != "permanent" || m["error"] != "invalid" || m["attempt"] != 2.0 ||
		m["original_exchange"] != f.exchange || m["original_routing_key"] != "Order.Paid" || m["failed_at"] == nil || m["headers"] != nil {
		t.Errorf("list --json message: %v", m)
	}

	r = warrenCmd(t, "dlq", "show", "--queue", f.queue, "--json", "--id", "m1")
	if r.code != exitOK || decode(r.stdout, &out) != nil || len(out.Messages) != 1 {
		t.Fatalf("show --json: %+v", r)
	}
	m = out.Messages[0]
	h, _ := m["headers"].(map[string]any)
	if m["body"] != `{"id":"m1"}` || h[warren.HeaderReason] != "error" {
		t.Errorf("show --json message: %v", m)
	}
}

func TestReplay(t *testing.T) {
	f := newFixture(t)
	f.deadLetter("m1", "Order.Created", warren.ReasonError, fmt.Errorf("x"))
	f.deadLetter("m2", "Order.Paid", warren.ReasonPermanent, fmt.Errorf("y"))

	r := warrenCmd(t, "dlq", "replay", "--queue", f.queue, "--dry-run")
	if r.code != exitOK || strings.Count(r.stdout, "would replay") != 3 || !strings.Contains(r.stdout, "dry run: would replay 2 messages") {
		t.Fatalf("dry run: %+v", r)
	}
	if f.depth(f.dlq) != 2 || f.depth(f.target) != 0 {
		t.Fatalf("dry run moved messages: dlq %d target %d", f.depth(f.dlq), f.depth(f.target))
	}

	r = warrenCmd(t, "dlq", "replay", "--queue", f.queue, "--reason", "permanent")
	if r.code != exitOK || !strings.HasSuffix(r.stdout, "replayed 1 message from "+f.dlq+"\n") || !strings.Contains(r.stdout, f.exchange+" Order.Paid") {
		t.Fatalf("replay: %+v", r)
	}
	if f.depth(f.dlq) != 1 || f.depthSoon(f.queue, 1) != 1 || f.depth(f.target) != 0 {
		t.Fatalf("after replay: dlq %d work %d target %d, want 1, 1 and 0", f.depth(f.dlq), f.depth(f.queue), f.depth(f.target))
	}

	r = warrenCmd(t, "dlq", "replay", "--queue", f.queue, "--json")
	var out struct {
		DryRun   bool `json:"dry_run"`
		Replayed []map[string]any
		Failed   []map[string]any
	}
	if r.code != exitOK || decode(r.stdout, &out) != nil || len(out.Replayed) != 1 || len(out.Failed) != 0 || out.Replayed[0]["message_id"] != "m1" {
		t.Fatalf("replay --json: %+v", r)
	}
	if f.depth(f.dlq) != 0 || f.depthSoon(f.queue, 2) != 2 || f.depth(f.target) != 0 {
		t.Fatalf("after replay: dlq %d work %d target %d, want 0, 2 and 0", f.depth(f.dlq), f.depth(f.queue), f.depth(f.target))
	}
}

func TestReplayIntoMissingQueueFails(t *testing.T) {
	f := newFixture(t)
	f.deadLetter("lost", "Order.Created", warren.ReasonError, fmt.Errorf("x"))
	if _, err := f.ch.QueueDelete(f.queue, false, false, false); err != nil {
		t.Fatal(err)
	}
	r := warrenCmd(t, "dlq", "replay", "--queue", f.queue)
	if r.code != exitFail || !strings.Contains(r.stdout, "FAILED") || !strings.Contains(r.stdout, "1 cannot be replayed and stays there") || !strings.Contains(r.stdout, "not found") || !strings.Contains(r.stderr, "not replayed") {
		t.Fatalf("replay into a deleted queue: %+v", r)
	}
	if f.depth(f.dlq) != 1 {
		t.Fatalf("the message left the DLQ: depth %d", f.depth(f.dlq))
	}
}

func TestPurge(t *testing.T) {
	f := newFixture(t)
	for i := range 3 {
		f.deadLetter(fmt.Sprint("m", i), "Order.Created", warren.ReasonError, fmt.Errorf("x"))
	}
	r := warrenCmd(t, "dlq", "purge", "--queue", f.queue, "--dry-run")
	if r.code != exitOK || r.stdout != "would purge 3 messages from "+f.dlq+"\n" || f.depth(f.dlq) != 3 {
		t.Fatalf("purge --dry-run: %+v", r)
	}
	r = warrenCmd(t, "dlq", "purge", "--queue", f.queue, "--json", "--yes")
	var out purgeJSON
	if r.code != exitOK || decode(r.stdout, &out) != nil || out.Purged != 3 || out.Queue != f.dlq {
		t.Fatalf("purge --json: %+v", r)
	}
	if f.depth(f.dlq) != 0 {
		t.Fatalf("depth %d after purge", f.depth(f.dlq))
	}
	r = warrenCmd(t, "dlq", "list", "--queue", f.queue)
	if r.code != exitOK || r.stdout != f.dlq+" is empty\n" {
		t.Errorf("empty list: %+v", r)
	}
}

func TestMissingQueue(t *testing.T) {
	q := brokertest.Name(t, "missing")
	for _, sub := range []string{"list", "show", "replay", "purge"} {
		args := []string{"dlq", sub, "--queue", q}
		if sub == "purge" {
			args = append(args, "--yes")
		}
		r := warrenCmd(t, args...)
		if r.code != exitFail || !strings.Contains(r.stderr, "queue not found") || !strings.Contains(r.stderr, q+".dlq") {
			t.Errorf("%s of a missing queue: %+v", sub, r)
		}
	}
}
