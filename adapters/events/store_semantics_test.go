package events

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestStoreWriteWithKnownIDReplaces writes an event, another, then the
// first again under its ID with a new payload: Read returns two events,
// the first in its place with the new payload (go-micro's store replaces
// the record with that key).
func TestStoreWriteWithKnownIDReplaces(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("profiles")
	first := &Event{Topic: topic, Payload: []byte(`{"v":1}`)}
	if err := e.store.Write(first); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Write(&Event{Topic: topic, Payload: []byte(`{"other":true}`)}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Write(&Event{ID: first.ID, Topic: topic, Payload: []byte(`{"v":2}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Read(topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Read returned %d events; want 2 (the rewrite replaces the first)", len(got))
	}
	if got[0].ID != first.ID || string(got[0].Payload) != `{"v":2}` {
		t.Fatalf("first event: %s %s; want %s {\"v\":2}", got[0].ID, got[0].Payload, first.ID)
	}
}

// TestStoreReadsDoNotGrowTheStream writes one event and reads it 30
// times: the topic's stream queue still holds one message.
func TestStoreReadsDoNotGrowTheStream(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("reads")
	if err := e.store.Write(&Event{Topic: topic, Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		got, err := e.store.Read(topic)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("read %d: %d events; want 1", i, len(got))
		}
	}
	if n := streamLength(t, e.store.Queue(topic)); n != 1 {
		t.Fatalf("after 30 reads the stream holds %d messages; want 1", n)
	}
}

// streamLength counts the messages of a stream queue by reading it from
// the first until nothing more arrives for 500 ms.
func streamLength(t *testing.T, queue string) int {
	t.Helper()
	ch := brokertest.Channel(t)
	if err := ch.Qos(1000, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume(queue, "", false, false, false, false, amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		select {
		case d := <-ds:
			_ = d.Ack(false)
			n++
		case <-time.After(500 * time.Millisecond):
			return n
		}
	}
}
