package rabbitmq

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/middleware"
)

// poisonTimeout is the Timeout middleware's deadline in the poison corpus.
const poisonTimeout = 200 * time.Millisecond

// poisonCase is one hostile or broken message of the poison corpus and the
// settlement it must get: dead-lettered with reason want, or acked when
// want is "".
type poisonCase struct {
	name    string // also the message id
	key     string // routing key on the test's exchange
	direct  bool   // publish through the default exchange straight into the queue
	ct      string
	body    []byte
	headers amqp.Table
	want    string
	attempt int // the attempt the dead letter records; 0 means 1
}

// poisonCorpus returns the corpus: broken bodies, hostile headers and
// misbehaving handlers. Headers stay within what amqp091-go can read (32
// levels of nesting, 8,192 entries per table or array); deeper and wider
// ones are TestPoisonUnreadableHeaders'.
func poisonCorpus() []poisonCase {
	const json = "application/json"
	huge := strings.Repeat("9", 100_000) // a header value close to the frame size
	return []poisonCase{
		{name: "malformed-json", key: "Order.Created", ct: json, body: []byte(`{"id": "o-1",`), want: warren.ReasonDecode},
		{name: "binary-body", key: "Order.Created", ct: json, body: []byte{0, 0xff, 0xfe, '{', 0x80}, want: warren.ReasonDecode},
		{name: "json-wrong-shape", key: "Order.Created", ct: json, body: []byte(`{"id": 42}`), want: warren.ReasonDecode},
		{name: "xml-content-type", key: "Order.Created", ct: "application/xml", body: []byte(`<order id="1"/>`), want: warren.ReasonDecode},
		{name: "text-content-type", key: "Order.Created", ct: "text/plain; charset=utf-8", body: []byte(`{"id":"o-1"}`), want: warren.ReasonDecode},
		{name: "garbage-content-type", key: "Order.Created", ct: "\x00;;=\xff", body: []byte(`{"id":"o-1"}`), want: warren.ReasonDecode},
		{name: "no-route", direct: true, ct: json, body: []byte(`{}`), want: warren.ReasonNoRoute},
		{name: "panic", key: "Order.Panic", ct: json, body: []byte(`{}`), want: warren.ReasonError},
		{name: "timeout", key: "Order.Slow", ct: json, body: []byte(`{}`), want: warren.ReasonError},
		{name: "timeout-ignored", key: "Order.Stubborn", ct: json, body: []byte(`{}`), want: warren.ReasonError},
		{name: "10mb-malformed", key: "Order.Created", ct: json, body: bigBody(10<<20, false), want: warren.ReasonDecode},
		{name: "10mb-ok", key: "Blob.Stored", ct: "application/octet-stream", body: bigBody(10<<20, true)},
		{name: "attempt-float", key: "Order.Seen", headers: amqp.Table{
			warren.HeaderAttempt: 2.5, warren.HeaderOriginalRoutingKey: "Order.Panic"}},
		{name: "attempt-table", key: "Order.Seen", headers: amqp.Table{
			warren.HeaderAttempt: amqp.Table{"n": int64(3)}, warren.HeaderOriginalRoutingKey: "Order.Panic"}},
		{name: "attempt-huge-string", key: "Order.Seen", headers: amqp.Table{warren.HeaderAttempt: huge}},
		{name: "attempt-max-int", key: "Order.Seen", headers: amqp.Table{
			warren.HeaderAttempt: int64(math.MaxInt64), warren.HeaderOriginalRoutingKey: int64(7)}},
		{name: "original-key-int", key: "Order.Seen", headers: amqp.Table{
			warren.HeaderAttempt: int32(3), warren.HeaderOriginalRoutingKey: int64(7),
			warren.HeaderOriginalExchange: amqp.Table{"x": nil}}},
		// Retry headers a publisher wrote are not trusted (issue 11, defect 8):
		// the message is dispatched by its own key.
		{name: "original-key-5000", key: "Order.Seen", headers: amqp.Table{
			warren.HeaderAttempt: int64(2), warren.HeaderOriginalRoutingKey: strings.Repeat("k", 5000)}},
		{name: "deep-nesting-32", key: "Order.Seen", headers: amqp.Table{"deep": nestedTable(31)}},
		{name: "arrays-of-tables", key: "Order.Seen", headers: tablesAndArrays()},
		{name: "x-death-not-a-list", key: "Order.Seen", headers: amqp.Table{"x-death": "not a list"}},
		{name: "x-death-negative", key: "Order.Seen", headers: amqp.Table{"x-death": []any{
			amqp.Table{"queue": "q", "reason": "rejected", "count": int64(-5)}}}},
		{name: "x-death-8192", key: "Order.Seen", headers: amqp.Table{"x-death": wideDeaths(8192)}},
		{name: "x-death-hostile-failing", key: "Order.Fail", headers: amqp.Table{"x-death": hostileDeaths(64)},
			want: warren.ReasonError},
		{name: "x-death-8192-failing", key: "Order.Fail", headers: amqp.Table{"x-death": wideDeaths(8192)},
			want: warren.ReasonError},
	}
}

// bigBody returns n bytes: valid JSON when valid, else JSON cut short.
func bigBody(n int, valid bool) []byte {
	b := bytes.Repeat([]byte("x"), n)
	copy(b, `{"id":"`)
	if valid {
		copy(b[n-2:], `"}`)
	}
	return b
}

// nestedTable returns depth tables nested in one another around a leaf
// table: depth+1 levels in all.
func nestedTable(depth int) amqp.Table {
	t := amqp.Table{"leaf": "bottom"}
	for i := 0; i < depth; i++ {
		t = amqp.Table{"level": t, "i": int32(i)}
	}
	return t
}

// tablesAndArrays returns headers of every AMQP field type, with arrays of
// tables nested in arrays.
func tablesAndArrays() amqp.Table {
	row := amqp.Table{"id": int64(1), "tags": []any{"a", []byte("b"), amqp.Table{"c": []any{}}}}
	rows := make([]any, 200)
	for i := range rows {
		rows[i] = amqp.Table{"row": row, "list": []any{row, []any{row}}}
	}
	return amqp.Table{
		"rows": rows,
		"mixed": []any{nil, true, int8(-1), byte(2), int16(-3), uint16(4), int32(-5), uint32(6), int64(-7),
			float32(8.5), 9.25, amqp.Decimal{Scale: 2, Value: 1234}, "s", []byte{0, 0xff},
			time.Unix(1700000000, 0), amqp.Table{}, []any{}},
		"empty-key-table": amqp.Table{"": ""},
	}
}

// hostileDeaths returns an x-death list of n entries as a careless or
// hostile publisher might write it: tables with wrong types and negative
// or absurd counts, mixed with strings, numbers and lists where tables
// belong.
func hostileDeaths(n int) []any {
	out := make([]any, n)
	for i := range out {
		switch i % 8 {
		case 0:
			out[i] = amqp.Table{"count": int64(-i)}
		case 1:
			out[i] = "queue"
		case 2:
			out[i] = int32(i)
		case 3:
			out[i] = amqp.Table{"count": "lots", "queue": int32(7), "routing-keys": "a.b"}
		case 4:
			out[i] = []any{amqp.Table{"count": int64(1)}}
		case 5:
			out[i] = amqp.Table{"count": int64(math.MaxInt64), "reason": []byte("rejected"), "time": "yesterday"}
		case 6:
			out[i] = nil
		default:
			out[i] = amqp.Table{"routing-keys": []any{int64(1), nil}, "count": 1e300}
		}
	}
	return out
}

// wideDeaths returns an x-death list of n small entries (7 bytes each on
// the wire on average, so that thousands fit in one header frame): a
// table with a negative count, a string, a number and a null, in turn.
func wideDeaths(n int) []any {
	out := make([]any, n)
	for i := range out {
		switch i % 4 {
		case 0:
			out[i] = amqp.Table{"count": int32(-i)}
		case 1:
			out[i] = "q"
		case 2:
			out[i] = int32(i)
		default:
			out[i] = nil
		}
	}
	return out
}

// poisonSeen is what a handler saw of one message.
type poisonSeen struct {
	calls   int
	attempt int
	key     string
	deaths  int
	size    int
	// negative is set when Deaths returned a negative count.
	negative bool
}

// poisonRecorder records what handlers saw, by message id.
type poisonRecorder struct {
	mu   sync.Mutex
	seen map[string]poisonSeen
}

func (r *poisonRecorder) record(m *warren.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen[m.MessageID]
	s.calls++
	s.attempt, s.key, s.size = m.Attempt, m.RoutingKey, len(m.Body)
	deaths := warren.Deaths(m.Headers)
	s.deaths = len(deaths)
	for _, d := range deaths {
		s.negative = s.negative || d.Count < 0
	}
	// The readers must survive whatever the headers hold.
	_, _ = warren.HeaderInt(m.Headers, warren.HeaderAttempt)
	_, _ = warren.HeaderString(m.Headers, warren.HeaderOriginalRoutingKey)
	r.seen[m.MessageID] = s
}

func (r *poisonRecorder) get(id string) poisonSeen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// poisonRouter mounts the corpus's routes behind Recover and a Timeout,
// with a short Timeout on the routes that overrun it. The short one is not
// global because Timeout replaces whatever a late handler returns with a
// retryable timeout error: decoding 10 MB of broken JSON under the race
// detector on a loaded machine can take longer than 200 ms, and would then
// dead-letter with reason "error" instead of "decode".
func poisonRouter(rec *poisonRecorder) *warren.Router {
	r := warren.NewRouter()
	r.Use(middleware.Recover, middleware.Timeout(time.Minute))
	r.Handle("Order.Created", warren.Typed(func(ctx context.Context, o orderCreated) error {
		rec.record(warren.MessageFromContext(ctx))
		return nil
	}))
	r.HandleFunc("Order.Seen", func(_ context.Context, m *warren.Message) error { rec.record(m); return nil })
	r.HandleFunc("Blob.Stored", func(_ context.Context, m *warren.Message) error { rec.record(m); return nil })
	r.HandleFunc("Order.Fail", func(_ context.Context, m *warren.Message) error {
		rec.record(m)
		return errors.New("order service rejected it")
	})
	r.HandleFunc("Order.Panic", func(_ context.Context, m *warren.Message) error {
		rec.record(m)
		panic("poison: handler bug")
	})
	short := r.With(middleware.Timeout(poisonTimeout))
	short.HandleFunc("Order.Slow", func(ctx context.Context, m *warren.Message) error {
		rec.record(m)
		<-ctx.Done()
		return ctx.Err()
	})
	short.HandleFunc("Order.Stubborn", func(_ context.Context, m *warren.Message) error {
		rec.record(m)
		time.Sleep(2 * poisonTimeout) // ignores its context
		return nil
	})
	return r
}

// connObserver is a recordingObserver that also counts lost connections.
type connObserver struct {
	recordingObserver
	mu    sync.Mutex
	downs map[string]int
}

func (o *connObserver) ObserveConnection(e warren.ConnectionEvent) {
	if e.State != warren.ConnDown || e.Attempt != 0 {
		return // count losses, not the redial attempts after one
	}
	o.mu.Lock()
	if o.downs == nil {
		o.downs = map[string]int{}
	}
	o.downs[e.Name]++
	o.mu.Unlock()
}

func (o *connObserver) lost() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for k, v := range o.downs {
		out[k] = v
	}
	return out
}

func (o *recordingObserver) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.settles)
}

// heapAfterGC returns the live heap after a full collection.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	for i := 0; i < 3; i++ { // sync.Pool keeps objects across one cycle
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestPoisonCorpus feeds one consumer with a realistic middleware chain
// every kind of broken message: each ends in the dead-letter queue with the
// right reason, or, where the handler succeeds despite hostile headers, is
// acked as the attempt 1 it is; no connection is lost; the consumer goes
// on; and once the client is closed goroutines and the heap return to
// their baseline.
func TestPoisonCorpus(t *testing.T) {
	const heapSlack = 20 << 20 // the 10 MB bodies must not stay behind
	ch := brokertest.Channel(t)
	goroutines, heap := runtime.NumGoroutine(), heapAfterGC()

	obs := &connObserver{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t)
	rec := &poisonRecorder{seen: map[string]poisonSeen{}}
	cons, err := client.NewConsumer(context.Background(), poisonRouter(rec), spec, WithWorkers(4), WithPrefetch(16))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cases := poisonCorpus()
	sums := map[string][32]byte{}
	wantDead := 0
	for i := range cases {
		c := &cases[i]
		ex, key := spec.Exchange.Name, c.key
		if c.direct {
			ex, key = "", spec.Queue.Name
		}
		err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: ex, RoutingKey: key, Mandatory: true,
			Publishing: amqp.Publishing{MessageId: c.name, ContentType: c.ct, Headers: c.headers, Body: c.body}})
		if err != nil {
			t.Fatalf("%s: publish: %v", c.name, err)
		}
		sums[c.name] = sha256.Sum256(c.body)
		c.body = nil // let the 10 MB bodies go
		if c.want != "" {
			wantDead++
		}
	}
	// The consumer is still serving after the corpus.
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Created", `{"id":"after"}`, nil)
	eventually(t, time.Minute, "every message settled", func() bool { return obs.total() == len(cases)+1 })

	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	eventually(t, 30*time.Second, "the dead letters", func() bool { return depth(t, ch, dlq) == wantDead })
	if err := stop(); err != nil {
		t.Fatalf("shutdown after the corpus: %v", err)
	}
	if d := depth(t, ch, spec.Queue.Name); d != 0 {
		t.Fatalf("%d messages left in the work queue", d)
	}
	if lost := obs.lost(); len(lost) != 0 {
		t.Fatalf("connections lost during the corpus: %v", lost)
	}
	checkDeadLetters(t, ch, dlq, spec.Queue.Name, cases, sums)
	checkAcked(t, rec, cases)

	if err := client.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	eventually(t, 10*time.Second, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= goroutines+2
	})
	after := heapAfterGC()
	t.Logf("goroutines %d -> %d; heap after GC %d KB -> %d KB", goroutines, runtime.NumGoroutine(), heap>>10, after>>10)
	if after > heap+heapSlack {
		t.Fatalf("heap after GC is %d MB, %d MB above the baseline", after>>20, (after-heap)>>20)
	}
}

// checkDeadLetters checks that exactly the cases that must be dead-lettered
// are in the DLQ, each once, with its reason, the failure headers, and its
// body intact.
func checkDeadLetters(t *testing.T, ch *amqp.Channel, dlq, queue string, cases []poisonCase, sums map[string][32]byte) {
	t.Helper()
	got := map[string]int{}
	for _, d := range drain(t, ch, dlq) {
		got[d.MessageId]++
		h := d.Headers
		var c poisonCase
		for _, pc := range cases {
			if pc.name == d.MessageId {
				c = pc
			}
		}
		want := c.want
		if h[warren.HeaderReason] != want || want == "" {
			t.Errorf("%s: dead-lettered with reason %v, want %q", d.MessageId, h[warren.HeaderReason], want)
		}
		if h[warren.HeaderQueue] != queue || h[warren.HeaderAttempt] != int64(max(c.attempt, 1)) {
			t.Errorf("%s: queue %v attempt %v in the dead letter", d.MessageId, h[warren.HeaderQueue], h[warren.HeaderAttempt])
		}
		if key, _ := h[warren.HeaderOriginalRoutingKey].(string); len(key) > warren.MaxHeaderValue {
			t.Errorf("%s: x-original-routingKey of %d bytes", d.MessageId, len(key))
		}
		msg, _ := h[warren.HeaderExceptionMessage].(string)
		if msg == "" || len(msg) > warren.MaxHeaderValue {
			t.Errorf("%s: exception message of %d bytes", d.MessageId, len(msg))
		}
		if sha256.Sum256(d.Body) != sums[d.MessageId] {
			t.Errorf("%s: the dead letter's body (%d bytes) differs from the message's", d.MessageId, len(d.Body))
		}
		switch d.MessageId {
		case "panic":
			if st, _ := h[warren.HeaderExceptionStacktrace].(string); !strings.Contains(st, "goroutine") {
				t.Errorf("panic: no stack trace in the dead letter")
			}
		case "timeout", "timeout-ignored":
			if !strings.Contains(msg, "timed out") {
				t.Errorf("%s: exception message %q", d.MessageId, msg)
			}
		case "x-death-hostile-failing", "x-death-8192-failing":
			want := map[string]int{"x-death-hostile-failing": 64, "x-death-8192-failing": 8192}[d.MessageId]
			if l, _ := h["x-death"].([]any); len(l) != want {
				t.Errorf("%s: the x-death header was not kept (%d entries, want %d)", d.MessageId, len(l), want)
			}
		}
		t.Logf("dead letter %-24s reason %-9v body %8d B", d.MessageId, h[warren.HeaderReason], len(d.Body))
	}
	for _, c := range cases {
		if c.want != "" && got[c.name] != 1 {
			t.Errorf("%s: %d copies in the DLQ, want 1 (reason %s)", c.name, got[c.name], c.want)
		}
	}
}

// checkAcked checks what the handlers of the acked cases saw: each once,
// as attempt 1 (or the sane attempt its header holds) on its own routing
// key, whatever its headers claimed.
func checkAcked(t *testing.T, rec *poisonRecorder, cases []poisonCase) {
	t.Helper()
	for _, c := range cases {
		s := rec.get(c.name)
		if c.want != "" {
			continue
		}
		wantAttempt := map[string]int{"attempt-max-int": 1 << 20, "original-key-int": 3, "original-key-5000": 2}[c.name]
		if wantAttempt == 0 {
			wantAttempt = 1
		}
		if s.negative {
			t.Errorf("%s: warren.Deaths returned a negative count", c.name)
		}
		if s.calls != 1 || s.attempt != wantAttempt || s.key != c.key {
			t.Errorf("%s: handled %d times as attempt %d of %q, want once as attempt %d of %q",
				c.name, s.calls, s.attempt, s.key, wantAttempt, c.key)
		}
		t.Logf("acked       %-24s attempt %-7d x-death entries read %d", c.name, s.attempt, s.deaths)
	}
	if s := rec.get("10mb-ok"); s.size != 10<<20 {
		t.Errorf("10mb-ok: handler saw %d bytes", s.size)
	}
	if s := rec.get("x-death-8192"); s.deaths != 8192/4 {
		t.Errorf("x-death-8192: Deaths read %d entries, want the %d tables", s.deaths, 8192/4)
	}
}
