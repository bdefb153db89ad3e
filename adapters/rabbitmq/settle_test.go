package rabbitmq

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/retry"
)

// recordingObserver keeps every settle and retry event.
type recordingObserver struct {
	warren.NopObserver
	mu      sync.Mutex
	settles []warren.SettleEvent
	retries []warren.RetryEvent
}

func (o *recordingObserver) ObserveSettle(e warren.SettleEvent) {
	o.mu.Lock()
	o.settles = append(o.settles, e)
	o.mu.Unlock()
}

func (o *recordingObserver) ObserveRetry(e warren.RetryEvent) {
	o.mu.Lock()
	o.retries = append(o.retries, e)
	o.mu.Unlock()
}

func (o *recordingObserver) count(a warren.Action, reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, e := range o.settles {
		if e.Action == a && e.Reason == reason {
			n++
		}
	}
	return n
}

func publishTo(t *testing.T, ctx context.Context, pub *Publisher, exchange, key string, body string, hdr amqp.Table) {
	t.Helper()
	err := pub.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: key,
		Publishing: amqp.Publishing{Body: []byte(body), Headers: hdr, ContentType: "application/json"}})
	if err != nil {
		t.Fatalf("publish %s: %v", key, err)
	}
}

// TestSettlementTable checks every row of the settlement table on the
// broker: what ends acked, and what ends in the dead-letter queue with
// which reason and headers.
func TestSettlementTable(t *testing.T) {
	obs := &recordingObserver{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var mu sync.Mutex
	calls := map[string]int{}
	count := func(k string) {
		mu.Lock()
		calls[k]++
		mu.Unlock()
	}
	r := warren.NewRouter()
	r.HandleFunc("ok", func(_ context.Context, m *warren.Message) error { count("ok"); return nil })
	r.HandleFunc("fail", func(context.Context, *warren.Message) error { count("fail"); return errors.New("db unavailable") })
	r.HandleFunc("perm", func(context.Context, *warren.Message) error {
		count("perm")
		return warren.Permanent(errors.New("invalid order"))
	})
	r.Handle("decode", warren.Typed(func(context.Context, orderCreated) error { count("decode"); return nil }))
	r.HandleFunc("drop", func(context.Context, *warren.Message) error {
		count("drop")
		return warren.Drop(errors.New("duplicate"))
	})
	r.HandleFunc("panic", func(context.Context, *warren.Message) error { count("panic"); panic("handler bug") })
	r.HandleFunc("requeue", func(context.Context, *warren.Message) error {
		count("requeue")
		return warren.Requeue(errors.New("not yet"))
	})
	r.HandleFunc("garbage", func(_ context.Context, m *warren.Message) error {
		count("garbage")
		if m.Attempt != 1 {
			return errors.New("garbage attempt header was trusted")
		}
		return nil
	})

	cons, err := client.NewConsumer(context.Background(), r, spec, WithWorkers(4), WithRequeueLimit(3))
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	pub := client.Publisher()
	ex := spec.Exchange.Name
	for _, k := range []string{"ok", "fail", "perm", "drop", "panic", "requeue"} {
		publishTo(t, ctx, pub, ex, k, `{"id":"1"}`, nil)
	}
	publishTo(t, ctx, pub, ex, "decode", `{"id":`, nil)
	publishTo(t, ctx, pub, ex, "garbage", `{}`, amqp.Table{
		warren.HeaderAttempt: "lots", "x-death": "not a list", warren.HeaderOriginalRoutingKey: int64(7),
		"deep": amqp.Table{"a": amqp.Table{"b": amqp.Table{"c": []any{amqp.Table{"d": 1}}}}},
	})
	// No route: straight into the queue through the default exchange.
	publishTo(t, ctx, pub, "", spec.Queue.Name, `{}`, nil)

	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	ch := brokertest.Channel(t)
	eventually(t, 30*time.Second, "6 dead letters", func() bool { return depth(t, ch, dlq) == 6 })
	eventually(t, 10*time.Second, "the ok and drop settlements", func() bool {
		return obs.count(warren.ActionAck, "") == 2 && obs.count(warren.ActionDrop, "") == 1
	})
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := depth(t, ch, spec.Queue.Name); d != 0 {
		t.Fatalf("work queue holds %d messages after settlement", d)
	}

	byKey := map[string]amqp.Delivery{}
	for _, d := range drain(t, ch, dlq) {
		k, _ := d.Headers[warren.HeaderOriginalRoutingKey].(string)
		byKey[k] = d
	}
	want := map[string]string{
		"fail": warren.ReasonError, "perm": warren.ReasonPermanent, "decode": warren.ReasonDecode,
		"panic": warren.ReasonError, "requeue": warren.ReasonRequeueLimit, spec.Queue.Name: warren.ReasonNoRoute,
	}
	for key, reason := range want {
		d, ok := byKey[key]
		if !ok {
			t.Errorf("%s: not in the DLQ (have %v)", key, keysOf(byKey))
			continue
		}
		h := d.Headers
		if h[warren.HeaderReason] != reason || h[warren.HeaderQueue] != spec.Queue.Name ||
			h[warren.HeaderOriginalExchange] == nil || h[warren.HeaderFailedAt] == nil || h[warren.HeaderAttempt] != int64(1) {
			t.Errorf("%s: headers %v, want reason %q and the full set", key, h, reason)
		}
		if msg, _ := h[warren.HeaderExceptionMessage].(string); msg == "" {
			t.Errorf("%s: no exception message", key)
		}
		if key != spec.Queue.Name && h[warren.HeaderRoute] != key {
			t.Errorf("%s: route header %v", key, h[warren.HeaderRoute])
		}
	}
	if st, _ := byKey["panic"].Headers[warren.HeaderExceptionStacktrace].(string); !strings.Contains(st, "goroutine") {
		t.Errorf("panic dead letter has no stack trace: %q", st)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range map[string]int{"ok": 1, "fail": 1, "perm": 1, "decode": 0, "drop": 1, "panic": 1, "requeue": 4, "garbage": 1} {
		if calls[k] != n {
			t.Errorf("%s handled %d times, want %d", k, calls[k], n)
		}
	}
	if n := obs.count(warren.ActionRequeue, ""); n != 3 {
		t.Errorf("observed %d requeues, want 3 (the limit)", n)
	}
}

func keysOf(m map[string]amqp.Delivery) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDelayedRetryThroughWaitQueues checks attempts 1, 2, 3 arrive after
// the policy's delays, that a restart of the consumer between attempts
// keeps the count, and that the message then rests in the DLQ.
func TestDelayedRetryThroughWaitQueues(t *testing.T) {
	delays := []time.Duration{200 * time.Millisecond, time.Second}
	obs := &recordingObserver{}
	client := newTestClient(t, WithObserver(obs))
	spec := testSpec(t, delays...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	type seen struct {
		attempt int
		at      time.Time
		key     string
	}
	attempts := make(chan seen, 16)
	var flakyCalls int
	var mu sync.Mutex
	r := warren.NewRouter()
	r.HandleFunc("Order.Failing", func(_ context.Context, m *warren.Message) error {
		attempts <- seen{m.Attempt, time.Now(), m.RoutingKey}
		return errors.New("still failing")
	})
	r.HandleFunc("Order.Flaky", func(_ context.Context, m *warren.Message) error {
		mu.Lock()
		defer mu.Unlock()
		flakyCalls++
		if m.Attempt == 1 {
			return errors.New("first time fails")
		}
		return nil
	})
	opts := []ConsumerOption{WithWorkers(2), WithRetry(retry.Delays(delays...))}
	cons, err := client.NewConsumer(context.Background(), r, spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, cons)
	start := time.Now()
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Failing", "{}", nil)
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "Order.Flaky", "{}", nil)

	first := <-attempts
	// Restart the consumer while the message waits in its wait queue.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	cons2, err := client.NewConsumer(context.Background(), r, spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	stop2 := runConsumer(t, cons2)
	var got []seen
	got = append(got, first)
	for len(got) < 3 {
		select {
		case s := <-attempts:
			got = append(got, s)
		case <-ctx.Done():
			t.Fatalf("only %d attempts arrived", len(got))
		}
	}
	for i, s := range got {
		if s.attempt != i+1 || s.key != "Order.Failing" {
			t.Fatalf("delivery %d: attempt %d key %q, want attempt %d of Order.Failing", i, s.attempt, s.key, i+1)
		}
	}
	if gap := got[1].at.Sub(got[0].at); gap < 150*time.Millisecond {
		t.Errorf("attempt 2 came %v after attempt 1, before the 200ms delay", gap)
	}
	if gap := got[2].at.Sub(got[1].at); gap < 800*time.Millisecond {
		t.Errorf("attempt 3 came %v after attempt 2, before the 1s delay", gap)
	}
	t.Logf("attempts at %v, %v, %v", got[0].at.Sub(start), got[1].at.Sub(start), got[2].at.Sub(start))

	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	eventually(t, 10*time.Second, "the dead letter", func() bool { return depth(t, ch, dlq) == 1 })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	d := drain(t, ch, dlq)[0]
	if d.Headers[warren.HeaderReason] != warren.ReasonError || d.Headers[warren.HeaderAttempt] != int64(3) ||
		d.Headers[warren.HeaderOriginalRoutingKey] != "Order.Failing" || d.Headers[warren.HeaderOriginalExchange] != spec.Exchange.Name {
		t.Fatalf("dead letter headers %v", d.Headers)
	}
	mu.Lock()
	defer mu.Unlock()
	if flakyCalls != 2 {
		t.Fatalf("flaky handler called %d times, want 2", flakyCalls)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.retries) != 3 { // failing twice, flaky once
		t.Fatalf("observed %d delayed retries, want 3", len(obs.retries))
	}
}

// TestShutdownAbortRequeues checks that a handler cancelled by a shutdown
// deadline has its message requeued, not acked or dead-lettered.
func TestShutdownAbortRequeues(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	started := make(chan struct{}, 1)
	r := warren.NewRouter()
	r.HandleFunc("slow", func(ctx context.Context, m *warren.Message) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cons.Run(context.Background()) }()
	ctx := context.Background()
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "slow", "{}", nil)
	<-started
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := cons.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	ch := brokertest.Channel(t)
	if d := depth(t, ch, spec.Queue.Name); d != 1 {
		t.Fatalf("queue depth %d after an aborted handler, want 1 (requeued)", d)
	}
	if d := depth(t, ch, warren.DeadLetterQueue(spec.Queue.Name)); d != 0 {
		t.Fatalf("aborted message was dead-lettered")
	}
}
