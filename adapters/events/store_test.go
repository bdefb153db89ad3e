package events

import (
	"fmt"
	"testing"
	"time"
)

func TestStoreReadsInOrderWithLimitAndOffset(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("ledger")
	const n = 20
	var ids []string
	for i := 0; i < n; i++ {
		ev := &Event{Topic: topic, Payload: []byte(fmt.Sprint(i)), Metadata: map[string]string{"i": fmt.Sprint(i)}}
		if err := e.store.Write(ev); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if ev.ID == "" || ev.Timestamp.IsZero() {
			t.Fatalf("write did not fill ID and Timestamp: %+v", ev)
		}
		ids = append(ids, ev.ID)
	}
	check := func(name string, got []*Event, from, count int) {
		t.Helper()
		if len(got) != count {
			t.Fatalf("%s: %d events; want %d", name, len(got), count)
		}
		for k, ev := range got {
			i := from + k
			if ev.ID != ids[i] || string(ev.Payload) != fmt.Sprint(i) || ev.Metadata["i"] != fmt.Sprint(i) || ev.Topic != topic {
				t.Fatalf("%s: event %d is %+v; want number %d", name, k, ev, i)
			}
		}
	}
	all, err := e.store.Read(topic)
	if err != nil {
		t.Fatal(err)
	}
	check("all", all, 0, n)
	page, err := e.store.Read(topic, ReadLimit(5), ReadOffset(10))
	if err != nil {
		t.Fatal(err)
	}
	check("limit 5 offset 10", page, 10, 5)
	tail, err := e.store.Read(topic, ReadLimit(100), ReadOffset(17))
	if err != nil {
		t.Fatal(err)
	}
	check("past the end", tail, 17, 3)
	none, err := e.store.Read(topic, ReadOffset(n))
	if err != nil {
		t.Fatal(err)
	}
	check("offset at the end", none, 0, 0)

	// Later writes are read after the earlier ones, past the fences earlier
	// reads left.
	if err := e.store.Write(&Event{Topic: topic, Payload: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	all, err = e.store.Read(topic, ReadLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n+1 || string(all[n].Payload) != "late" {
		t.Fatalf("after a late write: %d events, last %q", len(all), all[len(all)-1].Payload)
	}
}

func TestStoreSkipsExpired(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("sessions")
	write := func(payload string, opts ...WriteOption) {
		t.Helper()
		if err := e.store.Write(&Event{Topic: topic, Payload: []byte(payload)}, opts...); err != nil {
			t.Fatal(err)
		}
	}
	write("keep-1")
	write("short-1", WithTTL(300*time.Millisecond))
	write("forever", WithTTL(0))
	write("short-2", WithTTL(300*time.Millisecond))
	write("keep-2", WithTTL(time.Hour))
	got, err := e.store.Read(topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("before expiry: %d events; want 5", len(got))
	}
	time.Sleep(400 * time.Millisecond)
	got, err = e.store.Read(topic, ReadOffset(1))
	if err != nil {
		t.Fatal(err)
	}
	var payloads []string
	for _, ev := range got {
		payloads = append(payloads, string(ev.Payload))
	}
	if fmt.Sprint(payloads) != "[forever keep-2]" {
		t.Fatalf("after expiry, offset 1: %v; want [forever keep-2]", payloads)
	}
}

func TestStoreReadUnknownTopic(t *testing.T) {
	e := newEnv(t)
	got, err := e.store.Read(e.topic("never-written"))
	if err != nil || len(got) != 0 {
		t.Fatalf("Read of an unknown topic: %v, %v; want no events, no error", got, err)
	}
}
