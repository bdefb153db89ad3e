package main

import (
	"sync"
	"time"
)

// timeline keeps the times of the last events of one kind (handler
// starts, confirms) in a ring, to find the first one after a moment: when
// consuming or publishing resumed after a connection was lost.
type timeline struct {
	mu   sync.Mutex
	ring []int64 // unix nanos, oldest overwritten first
	next int
}

func newTimeline(n int) *timeline { return &timeline{ring: make([]int64, n)} }

func (l *timeline) add(t time.Time) {
	l.mu.Lock()
	l.ring[l.next] = t.UnixNano()
	l.next = (l.next + 1) % len(l.ring)
	l.mu.Unlock()
}

// firstAfter returns the earliest event after since that the ring still
// holds.
func (l *timeline) firstAfter(since time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := since.UnixNano()
	var first int64
	for _, t := range l.ring {
		if t > s && (first == 0 || t < first) {
			first = t
		}
	}
	return time.Unix(0, first), first != 0
}
