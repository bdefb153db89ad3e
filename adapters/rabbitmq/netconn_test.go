package rabbitmq

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// socketPair returns a socket dialed to a loopback listener and the
// listener's side of the connection. Both are closed when the test ends.
func socketPair(t *testing.T, limit time.Duration) (*socket, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	s := newSocket(conn, limit)
	t.Cleanup(func() {
		_ = s.Close()
		_ = peer.Close()
	})
	return s, peer
}

// TestSocketKeepsTheOrderOfWrites: writes of every size, from several
// goroutines at once (amqp091-go serialises its own; the race detector
// watches the buffers the flusher swaps), reach the peer whole and in the
// order each goroutine made them.
func TestSocketKeepsTheOrderOfWrites(t *testing.T) {
	s, peer := socketPair(t, 5*time.Second)
	const writers, each = 4, 300
	var mu sync.Mutex // one frame group at a time, as amqp091-go's sendM
	var want bytes.Buffer
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				size := 1 + (i*7919)%4096
				if i%50 == 0 {
					size = maxBacklog + 1 // larger than the backlog: not kept as a spare
				}
				b := bytes.Repeat([]byte{byte('a' + w)}, size)
				mu.Lock()
				want.Write(b)
				if _, err := s.Write(b); err != nil {
					mu.Unlock()
					t.Errorf("write: %v", err)
					return
				}
				mu.Unlock()
			}
		})
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	wg.Wait()
	// Wait for the flusher, then close: the peer reads to EOF.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		idle := !s.flushing && len(s.backlog) == 0
		s.mu.Unlock()
		if idle || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	_ = s.Close()
	b := <-got
	if !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("the peer read %d bytes, not the %d written in order", len(b), want.Len())
	}
}

// TestSocketStalledPeerFailsIt: a peer that stops reading fills the
// backlog; a Write then waits, the flusher's write times out after the
// limit, and the socket fails: the waiting Write and every later one
// return the timeout, and the connection is closed.
func TestSocketStalledPeerFailsIt(t *testing.T) {
	const limit = 500 * time.Millisecond
	s, peer := socketPair(t, limit)
	_ = peer // never read
	chunk := make([]byte, 256<<10)
	start := time.Now()
	var err error
	for time.Since(start) < 30*time.Second {
		if _, err = s.Write(chunk); err != nil {
			break
		}
	}
	t.Logf("a write failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write to a stalled peer: %v, want a timeout", err)
	}
	if _, err := s.Write([]byte("x")); !errors.As(err, &ne) {
		t.Errorf("write after the failure: %v, want the timeout again", err)
	}
	if _, err := s.Conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("the connection after the failure: %v, want it closed", err)
	}
}

// TestSocketInlineSendNeverWaits: a peer that stops reading holds the
// flusher in a write of 32 MiB. An inline send begun while the backlog has
// room writes past maxBacklog without waiting; after it, beginInline
// refuses the full socket, and a Write outside an inline send waits, until
// Close fails it.
func TestSocketInlineSendNeverWaits(t *testing.T) {
	s, _ := socketPair(t, 30*time.Second)
	s.noDirect() // as a publish channel does
	write := func(b []byte) <-chan error {
		done := make(chan error, 1)
		go func() { _, err := s.Write(b); done <- err }()
		return done
	}
	returns := func(what string, done <-chan error) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s waited", what)
		}
	}
	returns("the write the flusher stalls in", write(make([]byte, 32<<20)))
	eventually(t, 5*time.Second, "the flusher took the backlog", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.flushing && len(s.backlog) == 0
	})
	if !s.beginInline() {
		t.Fatal("beginInline refused a socket whose backlog has room")
	}
	returns("filling the backlog during an inline send", write(make([]byte, maxBacklog)))
	returns("a write past maxBacklog during an inline send", write([]byte("y")))
	s.endInline()
	if s.beginInline() {
		t.Error("beginInline accepted a socket whose backlog is full")
	}
	waited := write([]byte("x"))
	select {
	case err := <-waited:
		t.Fatalf("a write with the backlog full returned at once: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	_ = s.Close()
	select {
	case err := <-waited:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("the waiting write after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting write did not return after Close")
	}
}

// TestSocketNoInlineSendBesideADirectWrite: a socket writes in the
// caller's goroutine until a publish channel opens on it, and refuses
// inline sends until then; a direct write stalled by a peer that stops
// reading (it holds amqp091-go's connection lock) keeps refusing them
// after noDirect, until it fails.
func TestSocketNoInlineSendBesideADirectWrite(t *testing.T) {
	const limit = 2 * time.Second
	s, _ := socketPair(t, limit)
	if s.beginInline() {
		t.Fatal("beginInline accepted a socket that writes directly")
	}
	stalled := make(chan error, 1)
	go func() { _, err := s.Write(make([]byte, 32<<20)); stalled <- err }()
	eventually(t, 5*time.Second, "the direct write started", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.writingDirect
	})
	s.noDirect()
	if s.beginInline() {
		t.Fatal("beginInline accepted a socket with a direct write in progress")
	}
	select {
	case err := <-stalled:
		t.Logf("the stalled direct write: %v", err)
		if err == nil {
			t.Fatal("a 32 MiB write to a peer that reads nothing succeeded")
		}
	case <-time.After(limit + 5*time.Second):
		t.Fatal("the stalled direct write did not time out")
	}
	if s.beginInline() {
		t.Error("beginInline accepted a failed socket")
	}
}
