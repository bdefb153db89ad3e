package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// tracker keeps the soak's books: which message ids were confirmed by the
// broker, handled, and dead-lettered, and how often.
type tracker struct {
	sent       atomic.Int64 // distinct ids the publishers started on
	confirmed  atomic.Int64 // distinct ids the broker confirmed
	pubRetries atomic.Int64 // publishes that failed and were sent again
	calls      atomic.Int64 // handler calls
	failures   atomic.Int64 // handler calls that returned an error
	successes  atomic.Int64 // handler calls that returned nil
	starts     *timeline    // when the last handler calls started
	confirms   *timeline    // when the last confirms came

	mu      sync.Mutex
	confSet map[uint64]bool
	handled map[uint64]int // successful handler calls per id
}

func newTracker() *tracker {
	return &tracker{confSet: map[uint64]bool{}, handled: map[uint64]int{},
		starts: newTimeline(1 << 15), confirms: newTimeline(1 << 15)}
}

func (t *tracker) confirm(id uint64) {
	t.mu.Lock()
	t.confSet[id] = true
	t.mu.Unlock()
	t.confirmed.Add(1)
	t.confirms.add(time.Now())
}

// handle records one handler call that returned err.
func (t *tracker) handle(id uint64, start time.Time, failed bool) {
	t.calls.Add(1)
	t.starts.add(start)
	if failed {
		t.failures.Add(1)
		return
	}
	t.successes.Add(1)
	t.mu.Lock()
	t.handled[id]++
	t.mu.Unlock()
}

// summary is the soak's final account.
type summary struct {
	Sent, Confirmed, PublishRetries int64
	Handled, Duplicates             int64 // distinct ids handled; successful calls beyond the first
	Calls, Failures                 int64
	DeadLettered, DeadLetterCopies  int64 // distinct ids in the DLQ; copies there
	Lost                            int64 // confirmed, neither handled nor dead-lettered
	LostIDs                         []uint64
	UnexpectedDead                  int64 // dead-lettered ids that were not meant to fail every time
}

// account closes the books against the dead-letter queue's content
// (id -> copies) and the set of ids meant to fail every time.
func (t *tracker) account(dead map[uint64]int, poison func(uint64) bool) summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := summary{
		Sent: t.sent.Load(), Confirmed: int64(len(t.confSet)), PublishRetries: t.pubRetries.Load(),
		Calls: t.calls.Load(), Failures: t.failures.Load(),
	}
	for _, n := range t.handled {
		s.Handled++
		s.Duplicates += int64(n - 1)
	}
	for id, n := range dead {
		s.DeadLettered++
		s.DeadLetterCopies += int64(n)
		if !poison(id) {
			s.UnexpectedDead++
		}
	}
	for id := range t.confSet {
		if t.handled[id] == 0 && dead[id] == 0 {
			s.Lost++
			if len(s.LostIDs) < 20 {
				s.LostIDs = append(s.LostIDs, id)
			}
		}
	}
	return s
}

// pending reports how many confirmed ids were neither handled nor found
// in dead.
func (t *tracker) pending(dead map[uint64]int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for id := range t.confSet {
		if t.handled[id] == 0 && dead[id] == 0 {
			n++
		}
	}
	return n
}
