package events_test

// This file is a go-micro user's test of the events API, written against
// go-micro's documented events package (v4.11 and v5): only the import
// path and the two constructor calls in setup are warren's. Where warren
// behaves differently by design, the test says so and checks warren's
// behaviour.

import (
	"testing"
	"time"

	"github.com/warren-mq/warren/adapters/events" // go-micro: "go-micro.dev/v4/events"
)

type order struct {
	ID    string `json:"id"`
	Total int    `json:"total"`
}

// setup is the only code a go-micro user changes: the constructors.
func setup(t *testing.T) (events.Stream, events.Store) {
	stream, err := newRabbitStream(t) // go-micro: events.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	store, err := newRabbitStore(t) // go-micro: events.NewStore(), no error
	if err != nil {
		t.Fatal(err)
	}
	return stream, store
}

func next(t *testing.T, ch <-chan events.Event) events.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return events.Event{}
}

func none(t *testing.T, ch <-chan events.Event, d time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %s %s", ev.ID, ev.Payload)
	case <-time.After(d):
	}
}

func TestGoMicroScenario(t *testing.T) {
	stream, store := setup(t)

	t.Run("publish and consume", func(t *testing.T) {
		ch, err := stream.Consume("orders.created")
		if err != nil {
			t.Fatal(err)
		}
		md := map[string]string{"customer": "c-1"}
		if err := stream.Publish("orders.created", order{ID: "o-1", Total: 10}, events.WithMetadata(md)); err != nil {
			t.Fatal(err)
		}
		ev := next(t, ch)
		var o order
		if err := ev.Unmarshal(&o); err != nil {
			t.Fatal(err)
		}
		if o.ID != "o-1" || ev.Topic != "orders.created" || ev.Metadata["customer"] != "c-1" || ev.ID == "" || ev.Timestamp.IsZero() {
			t.Fatalf("got %+v, %+v", o, ev)
		}
	})

	t.Run("publish raw bytes and a timestamp", func(t *testing.T) {
		ch, err := stream.Consume("orders.raw")
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		if err := stream.Publish("orders.raw", []byte("plain"), events.WithTimestamp(at)); err != nil {
			t.Fatal(err)
		}
		ev := next(t, ch)
		if string(ev.Payload) != "plain" || !ev.Timestamp.Equal(at) {
			t.Fatalf("payload %q timestamp %v", ev.Payload, ev.Timestamp)
		}
	})

	t.Run("missing topic", func(t *testing.T) {
		if err := stream.Publish("", 1); err == nil {
			t.Fatal("publish to an empty topic succeeded")
		}
		if _, err := stream.Consume(""); err == nil {
			t.Fatal("consume of an empty topic succeeded")
		}
	})

	t.Run("group shares events", func(t *testing.T) {
		a, err := stream.Consume("orders.shared", events.WithGroup("billing"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := stream.Consume("orders.shared", events.WithGroup("billing"))
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		for i := 0; i < n; i++ {
			if err := stream.Publish("orders.shared", order{ID: "s", Total: i}); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		for len(seen) < n {
			var ev events.Event
			select {
			case ev = <-a:
			case ev = <-b:
			case <-time.After(10 * time.Second):
				t.Fatalf("group got %d of %d events", len(seen), n)
			}
			if seen[ev.ID] {
				t.Fatalf("event %s went to both members", ev.ID)
			}
			seen[ev.ID] = true
		}
		none(t, a, 200*time.Millisecond)
		none(t, b, 10*time.Millisecond)
	})

	t.Run("offset replays", func(t *testing.T) {
		start := time.Now()
		for i := 0; i < 3; i++ {
			if err := stream.Publish("orders.replayed", order{ID: "r", Total: i}); err != nil {
				t.Fatal(err)
			}
		}
		ch, err := stream.Consume("orders.replayed", events.WithOffset(start))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			var o order
			ev := next(t, ch)
			if err := ev.Unmarshal(&o); err != nil || o.Total != i {
				t.Fatalf("replay %d: %+v %v", i, o, err)
			}
		}
	})

	t.Run("group with offset", func(t *testing.T) {
		// Differs by design: NATS JetStream starts a new group at the
		// offset; on RabbitMQ a group's queue cannot start in the past, so
		// warren refuses the combination at the call (README: "Group with
		// offset").
		if _, err := stream.Consume("orders.replayed", events.WithGroup("late"), events.WithOffset(time.Now().Add(-time.Hour))); err == nil {
			t.Fatal("group with offset was accepted")
		}
	})

	t.Run("manual ack and nack", func(t *testing.T) {
		ch, err := stream.Consume("orders.manual", events.WithGroup("manual"), events.WithAutoAck(false, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Publish("orders.manual", order{ID: "m-1"}); err != nil {
			t.Fatal(err)
		}
		ev := next(t, ch)
		// Differs: go-micro's memory stream ignores Nack; NATS and warren
		// redeliver at once.
		if err := ev.Nack(); err != nil {
			t.Fatal(err)
		}
		again := next(t, ch)
		if again.ID != ev.ID {
			t.Fatalf("redelivered %s; want %s", again.ID, ev.ID)
		}
		if err := again.Ack(); err != nil {
			t.Fatal(err)
		}
		none(t, ch, 300*time.Millisecond)
	})

	t.Run("ack wait redelivers", func(t *testing.T) {
		ch, err := stream.Consume("orders.slow", events.WithAutoAck(false, 500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Publish("orders.slow", order{ID: "w-1"}); err != nil {
			t.Fatal(err)
		}
		ev := next(t, ch) // not acked
		again := next(t, ch)
		if again.ID != ev.ID {
			t.Fatalf("redelivered %s; want %s", again.ID, ev.ID)
		}
		if err := again.Ack(); err != nil {
			t.Fatal(err)
		}
		none(t, ch, time.Second)
	})

	t.Run("retry limit", func(t *testing.T) {
		ch, err := stream.Consume("orders.poison", events.WithGroup("poison"),
			events.WithAutoAck(false, time.Minute), events.WithRetryLimit(1))
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Publish("orders.poison", order{ID: "p-1"}); err != nil {
			t.Fatal(err)
		}
		for delivery := 1; delivery <= 2; delivery++ { // one retry
			ev := next(t, ch)
			if err := ev.Nack(); err != nil {
				t.Fatalf("nack %d: %v", delivery, err)
			}
		}
		// Differs: go-micro's memory stream discards the event here and
		// NATS leaves it undelivered in the stream; warren moves it to the
		// group's dead-letter queue (TestNackRedeliversThenDeadLetters
		// reads it there as `warren dlq list` does).
		none(t, ch, 500*time.Millisecond)
	})

	t.Run("consume options", func(t *testing.T) {
		var o events.ConsumeOptions
		if o.GetRetryLimit() != -1 {
			t.Fatalf("default retry limit %d; want -1", o.GetRetryLimit())
		}
		for _, opt := range []events.ConsumeOption{events.WithGroup("g"), events.WithRetryLimit(3), events.WithAutoAck(false, time.Second)} {
			opt(&o)
		}
		if o.Group != "g" || o.GetRetryLimit() != 3 || !o.CustomRetries || o.AutoAck || o.AckWait != time.Second {
			t.Fatalf("options %+v", o)
		}
		// A hand-written option, as go-micro code writes them.
		custom := func(o *events.PublishOptions) { o.Metadata = map[string]string{"k": "v"} }
		ch, err := stream.Consume("orders.custom")
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Publish("orders.custom", 1, custom); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, ch); ev.Metadata["k"] != "v" {
			t.Fatalf("metadata %v", ev.Metadata)
		}
	})

	t.Run("ack funcs", func(t *testing.T) {
		acked := false
		ev := events.Event{ID: "e-1", Topic: "t"}
		ev.SetAckFunc(func() error { acked = true; return nil })
		ev.SetNackFunc(func() error { return nil })
		if err := ev.Ack(); err != nil || !acked {
			t.Fatalf("ack func not called: %v", err)
		}
		if err := ev.Nack(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("store write and read", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			ev := &events.Event{ID: string(rune('a' + i)), Topic: "audit", Timestamp: time.Now(), Payload: []byte{byte('0' + i)}}
			if err := store.Write(ev, events.WithTTL(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.Write(&events.Event{ID: "short", Topic: "audit", Payload: []byte("x")}, events.WithTTL(100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		all, err := store.Read("audit")
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 {
			t.Fatalf("read %d events; want the 5 unexpired", len(all))
		}
		// Differs: go-micro v4's ReadLimit and ReadOffset set 1 whatever
		// they are given, and its store orders by key; warren honours n
		// and keeps write order.
		page, err := store.Read("audit", events.ReadLimit(2), events.ReadOffset(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].ID != "b" || page[1].ID != "c" {
			t.Fatalf("page %v", ids(page))
		}
		// A write with a known ID replaces the event.
		if err := store.Write(&events.Event{ID: "a", Topic: "audit", Payload: []byte("A")}); err != nil {
			t.Fatal(err)
		}
		first, err := store.Read("audit", events.ReadLimit(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 1 || first[0].ID != "a" || string(first[0].Payload) != "A" {
			t.Fatalf("after rewrite: %v", ids(first))
		}
		if _, err := store.Read(""); err == nil {
			t.Fatal("read of an empty topic succeeded")
		}
	})

	t.Run("package-level functions", func(t *testing.T) {
		events.DefaultStream, events.DefaultStore = stream, store
		t.Cleanup(func() { events.DefaultStream, events.DefaultStore = nil, nil })
		ch, err := events.Consume("orders.default")
		if err != nil {
			t.Fatal(err)
		}
		if err := events.Publish("orders.default", order{ID: "d-1"}); err != nil {
			t.Fatal(err)
		}
		next(t, ch)
		if err := events.DefaultStore.Write(&events.Event{Topic: "default", Payload: []byte("1")}); err != nil {
			t.Fatal(err)
		}
		got, err := events.Read("default")
		if err != nil || len(got) != 1 {
			t.Fatalf("read %d events, %v", len(got), err)
		}
	})
}

func ids(evs []*events.Event) []string {
	var s []string
	for _, ev := range evs {
		s = append(s, ev.ID)
	}
	return s
}
