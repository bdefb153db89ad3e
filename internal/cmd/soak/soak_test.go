package main

import (
	"reflect"
	"testing"
	"time"
)

func TestMessageIDs(t *testing.T) {
	for _, id := range []uint64{0, 7, 1 << 40} {
		if back, ok := parseID(messageID(id)); !ok || back != id {
			t.Fatalf("%d -> %q -> %d, %v", id, messageID(id), back, ok)
		}
	}
	for _, bad := range []string{"", "s", "x1", "s-1", "s1x"} {
		if _, ok := parseID(bad); ok {
			t.Fatalf("parseID(%q) accepted", bad)
		}
	}
}

func TestAccount(t *testing.T) {
	cfg := config{poisonEvery: 3}
	tr := newTracker()
	now := time.Now()
	for id := uint64(0); id < 6; id++ {
		tr.sent.Add(1)
		tr.confirm(id)
	}
	tr.handle(0, now, true) // fails once, then succeeds twice: one duplicate
	tr.handle(0, now, false)
	tr.handle(0, now, false)
	tr.handle(1, now, false)
	tr.handle(2, now, true) // poison: dead-lettered
	tr.handle(3, now, false)
	// 4 is lost; 5 is poison and dead-lettered twice
	s := tr.account(map[uint64]int{2: 1, 5: 2, 1: 1}, cfg.poison)
	want := summary{Sent: 6, Confirmed: 6, Handled: 3, Duplicates: 1, Calls: 6, Failures: 2,
		DeadLettered: 3, DeadLetterCopies: 4, UnexpectedDead: 1, Lost: 1, LostIDs: []uint64{4}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("account\n got %+v\nwant %+v", s, want)
	}
	if n := tr.pending(map[uint64]int{2: 1}); n != 2 {
		t.Fatalf("%d pending, want 2 (ids 4 and 5)", n)
	}
}

func TestTimelineFirstAfter(t *testing.T) {
	l := newTimeline(4)
	base := time.Unix(1000, 0)
	for i := 1; i <= 6; i++ { // the ring keeps 3..6
		l.add(base.Add(time.Duration(i) * time.Second))
	}
	if got, ok := l.firstAfter(base.Add(4500 * time.Millisecond)); !ok || !got.Equal(base.Add(5*time.Second)) {
		t.Fatalf("firstAfter(4.5s) = %v, %v", got, ok)
	}
	if got, ok := l.firstAfter(base); !ok || !got.Equal(base.Add(3*time.Second)) {
		t.Fatalf("firstAfter(0) = %v, %v; want the oldest kept, 3s", got, ok)
	}
	if _, ok := l.firstAfter(base.Add(6 * time.Second)); ok {
		t.Fatal("an event after the last one")
	}
}
