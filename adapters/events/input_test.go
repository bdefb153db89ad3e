package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBadTopics(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("t", 250) // fits a routing key, not the queue names
	for _, tc := range []struct {
		topic string
		want  error
	}{
		{"", ErrMissingTopic},
		{"bad\xffutf8", ErrInvalidTopic},
		{"orders.*", ErrInvalidTopic},
		{"#", ErrInvalidTopic},
		{strings.Repeat("x", 256), ErrInvalidTopic},
		{long, ErrInvalidTopic},
	} {
		name := tc.topic
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		if err := e.stream.Publish(tc.topic, "x"); !errors.Is(err, tc.want) {
			t.Errorf("Publish(%q): %v; want %v", name, err, tc.want)
		}
		if _, err := e.stream.Consume(tc.topic); !errors.Is(err, tc.want) {
			t.Errorf("Consume(%q): %v; want %v", name, err, tc.want)
		}
		if err := e.store.Write(&Event{Topic: tc.topic}); !errors.Is(err, tc.want) {
			t.Errorf("Write(%q): %v; want %v", name, err, tc.want)
		}
		if _, err := e.store.Read(tc.topic); !errors.Is(err, tc.want) {
			t.Errorf("Read(%q): %v; want %v", name, err, tc.want)
		}
	}
	// None of it reached the broker: the connection is fine.
	topic := e.topic("still.fine")
	ch := e.consume(topic)
	if err := e.stream.Publish(topic, "ok"); err != nil {
		t.Fatalf("publish after bad input: %v", err)
	}
	receive(t, ch, 10*time.Second)
}

func TestBadOptions(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("opts")
	for name, tc := range map[string]struct {
		opts []ConsumeOption
		want error
	}{
		"group with a dot":     {[]ConsumeOption{WithGroup("a.b")}, ErrInvalidName},
		"group and offset":     {[]ConsumeOption{WithGroup("g"), WithOffset(time.Now())}, ErrGroupOffset},
		"negative ack wait":    {[]ConsumeOption{WithAutoAck(false, -time.Second)}, ErrInvalidOption},
		"retry limit below -1": {[]ConsumeOption{WithRetryLimit(-2)}, ErrInvalidOption},
		"zero prefetch":        {[]ConsumeOption{WithPrefetch(0)}, ErrInvalidOption},
	} {
		if _, err := e.stream.Consume(topic, tc.opts...); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v; want %v", name, err, tc.want)
		}
	}
	if err := e.stream.Publish(topic, make(chan int)); !errors.Is(err, ErrEncodingMessage) {
		t.Errorf("unencodable message: %v", err)
	}
	for _, key := range []string{"x-warren-attempt", "x-death", "x-delivery-count", "", "bad\xff"} {
		if err := e.stream.Publish(topic, 1, WithMetadata(map[string]string{key: "v"})); err == nil {
			t.Errorf("metadata key %q accepted", key)
		}
	}
	if err := e.store.Write(nil); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("Write(nil): %v", err)
	}
	if err := e.store.Write(&Event{Topic: topic}, WithTTL(-time.Second)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("negative TTL: %v", err)
	}
	for _, name := range []string{"", "amq.mine", "bad\xff"} {
		if _, err := NewStream(e.client, WithName(name)); !errors.Is(err, ErrInvalidName) {
			t.Errorf("NewStream(%q): %v", name, err)
		}
		if _, err := NewStore(e.client, WithName(name)); !errors.Is(err, ErrInvalidName) {
			t.Errorf("NewStore(%q): %v", name, err)
		}
	}
}

func TestUnmarshalBadPayload(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("orders")
	ch := e.consume(topic)
	if err := e.stream.Publish(topic, []byte("not json {")); err != nil {
		t.Fatal(err)
	}
	if err := e.stream.Publish(topic, map[string]any{"id": "not-a-number"}); err != nil {
		t.Fatal(err)
	}
	var order struct{ ID int }
	ev := receive(t, ch, 10*time.Second)
	err := ev.Unmarshal(&order)
	var syntax *json.SyntaxError
	if !errors.Is(err, ErrDecode) || !errors.As(err, &syntax) || !strings.Contains(err.Error(), ev.ID) {
		t.Fatalf("Unmarshal of non-JSON: %v", err)
	}
	ev = receive(t, ch, 10*time.Second)
	var typeErr *json.UnmarshalTypeError
	if err := ev.Unmarshal(&order); !errors.Is(err, ErrDecode) || !errors.As(err, &typeErr) {
		t.Fatalf("Unmarshal into the wrong type: %v", err)
	}
	if err := ev.Unmarshal(nil); !errors.Is(err, ErrDecode) {
		t.Fatalf("Unmarshal(nil): %v", err)
	}
}

func TestPublishMetadataAndTimestamp(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("meta")
	ch := e.consume(topic)
	ts := time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC)
	md := map[string]string{"customer": "c-42", "x-custom": "ok"}
	if err := e.stream.Publish(topic, map[string]int{"n": 1}, WithMetadata(md), WithTimestamp(ts)); err != nil {
		t.Fatal(err)
	}
	ev := receive(t, ch, 10*time.Second)
	if !ev.Timestamp.Equal(ts) {
		t.Errorf("timestamp %v; want %v", ev.Timestamp, ts)
	}
	if len(ev.Metadata) != 2 || ev.Metadata["customer"] != "c-42" || ev.Metadata["x-custom"] != "ok" {
		t.Errorf("metadata %v; want %v", ev.Metadata, md)
	}
	if len(ev.ID) != 36 || ev.Topic != topic || string(ev.Payload) != `{"n":1}` {
		t.Errorf("event %+v", ev)
	}
}
