package events

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConsumersSurviveConnectionLoss(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("shipments", "shippers", "manual")
	grouped := e.consume(topic, WithGroup("shippers"))
	stream := e.consume(topic)
	manual := e.consume(topic, WithGroup("manual"), WithAutoAck(false, time.Minute))

	publishWith(t, e.stream, topic, 0, 100, 1)
	for i := 0; i < 100; i++ {
		if ev := receive(t, stream, 10*time.Second); number(ev) != i {
			t.Fatalf("stream event %d before the loss is %d", i, number(ev))
		}
		receive(t, grouped, 10*time.Second)
	}
	held := receive(t, manual, 10*time.Second) // handed out, not acked

	if n := closeConnections(t, e.name+".consume"); n != 1 {
		t.Fatalf("closed %d connections; want 1", n)
	}
	publishWith(t, e.stream, topic, 100, 200, 1)

	// The stream consumer resumes after the last event it got: every later
	// event exactly once, in order.
	for i := 100; i < 200; i++ {
		if ev := receive(t, stream, 20*time.Second); number(ev) != i {
			t.Fatalf("stream event after the loss is %d; want %d", number(ev), i)
		}
	}
	// The group's queue kept what was published during the outage.
	seen := map[int]bool{}
	for len(seen) < 100 {
		ev := receive(t, grouped, 20*time.Second)
		if n := number(ev); n >= 100 {
			seen[n] = true
		}
	}
	// The broker took the unacked event back and redelivers it; the old
	// copy can no longer be acked.
	for {
		ev := receive(t, manual, 20*time.Second)
		if ev.ID == held.ID {
			if ev.Attempt() < 2 {
				t.Errorf("redelivered event has attempt %d", ev.Attempt())
			}
			if err := ev.Ack(); err != nil {
				t.Fatalf("ack of the redelivery: %v", err)
			}
			break
		}
		_ = ev.Ack()
	}
	if err := held.Ack(); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("ack of the copy from the lost channel: %v; want ErrConnectionLost", err)
	}
	e.mu.Lock()
	reported := len(e.errs) > 0 && strings.Contains(e.errs[0].Error(), "lost its channel")
	e.mu.Unlock()
	if !reported {
		t.Errorf("the loss was not reported to the error handler: %v", e.errs)
	}
}

func TestCloseDrainsAndStops(t *testing.T) {
	e := newEnv(t, WithShutdownTimeout(5*time.Second))
	topic := e.topic("drain", "g")
	ch, err := e.stream.Consume(topic, WithGroup("g"), WithAutoAck(false, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stream.Publish(topic, "in flight"); err != nil {
		t.Fatal(err)
	}
	ev := receive(t, ch, 10*time.Second)

	closed := make(chan struct{})
	go func() { _ = e.stream.Close(); close(closed) }()
	if _, ok := <-ch; ok {
		t.Fatal("channel not closed by Close")
	}
	select {
	case <-closed:
		t.Fatal("Close returned before the handed-out event was settled")
	case <-time.After(200 * time.Millisecond):
	}
	if err := ev.Ack(); err != nil { // still possible while Close drains
		t.Fatalf("ack during shutdown: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the last ack")
	}
	if err := ev.Ack(); !errors.Is(err, ErrAlreadySettled) {
		t.Fatalf("ack after close: %v", err)
	}
	if err := e.stream.Publish(topic, "late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
	if _, err := e.stream.Consume(topic); !errors.Is(err, ErrClosed) {
		t.Fatalf("Consume after Close: %v", err)
	}

	// A fresh stream's group member finds nothing left in the queue: the
	// graceful shutdown redelivers nothing.
	s2, err := NewStream(e.client, WithName(e.name))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ch2, err := s2.Consume(topic, WithGroup("g"))
	if err != nil {
		t.Fatal(err)
	}
	quiet(t, ch2, 300*time.Millisecond)
}

func TestContextStopsConsumer(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("ctx")
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := e.stream.Consume(topic, ConsumeContext(ctx), WithAutoAck(false, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stream.Publish(topic, 1); err != nil {
		t.Fatal(err)
	}
	ev := receive(t, ch, 10*time.Second)
	if err := ev.Ack(); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after the context ended")
	}
}

func TestClientCloseStopsConsumers(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("client", "g")
	chs := []<-chan Event{e.consume(topic), e.consume(topic, WithGroup("g"))}
	_ = e.client.Close()
	var wg sync.WaitGroup
	for _, ch := range chs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("consumers did not stop after the client closed")
	}
	if err := e.stream.Publish(topic, 1); err == nil {
		t.Fatal("Publish on a closed client succeeded")
	}
}
