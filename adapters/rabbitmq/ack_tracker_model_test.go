package rabbitmq

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// modelAcker checks every ack and nack the tracker sends against what the
// handlers settled: a multiple ack may cover only tags acked by a handler,
// no tag is settled twice on the wire, and nothing else is sent.
type modelAcker struct {
	mu       sync.Mutex
	tracked  []uint64        // every tag tracked, ascending
	acked    map[uint64]bool // settled by a handler with an ack
	nacked   map[uint64]bool // settled by a handler with a nack
	sent     map[uint64]bool // settled on the wire
	problems []string
}

func newModelAcker() *modelAcker {
	return &modelAcker{acked: map[uint64]bool{}, nacked: map[uint64]bool{}, sent: map[uint64]bool{}}
}

func (a *modelAcker) Ack(tag uint64, multiple bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !multiple {
		a.settle(tag, a.acked, "ack")
		return nil
	}
	for _, t := range a.tracked {
		if t > tag {
			break
		}
		if !a.sent[t] {
			a.settle(t, a.acked, fmt.Sprintf("multiple ack up to %d", tag))
		}
	}
	return nil
}

func (a *modelAcker) Nack(tag uint64, multiple, _ bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if multiple {
		a.problems = append(a.problems, fmt.Sprintf("multiple nack up to %d", tag))
	}
	a.settle(tag, a.nacked, "nack")
	return nil
}

func (a *modelAcker) settle(tag uint64, by map[uint64]bool, what string) {
	switch {
	case a.sent[tag]:
		a.problems = append(a.problems, fmt.Sprintf("%s settles tag %d a second time", what, tag))
	case !by[tag]:
		a.problems = append(a.problems, fmt.Sprintf("%s settles tag %d, which no handler settled that way", what, tag))
	}
	a.sent[tag] = true
}

// TestAckTrackerAgreesWithModel settles tags in random orders, windows and
// batches, as workers finishing out of order do, and checks what goes on
// the wire against modelAcker: never an ack for a message still in a
// handler, every settled message sent exactly once after the final flush,
// oldestKey naming the lowest unsettled tag's key, and the tracker's memory bounded by what is unsettled (twice that, plus
// compactMin, plus the acks due).
func TestAckTrackerAgreesWithModel(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 18))
		window := 1 + rng.IntN(300)
		batch := 1 + rng.IntN(window)
		a := newModelAcker()
		s := newAckTracker(a, batch, nil)
		defer s.kill()
		var open []uint64 // tracked, not settled by a handler
		next := uint64(1)
		for step := 0; step < 5000; step++ {
			if len(open) < window && (len(open) == 0 || rng.IntN(3) > 0) {
				a.mu.Lock()
				a.tracked = append(a.tracked, next)
				a.mu.Unlock()
				s.trackKey(next, fmt.Sprint("k", next))
				open = append(open, next)
				next++
				continue
			}
			// Mostly an old one, as workers finishing in delivery order do.
			i := min(len(open)-1, rng.IntN(1+len(open)/4))
			if rng.IntN(8) == 0 {
				i = rng.IntN(len(open))
			}
			tag := open[i]
			open = append(open[:i], open[i+1:]...)
			nack := rng.IntN(10) == 0
			a.mu.Lock()
			if nack {
				a.nacked[tag] = true
			} else {
				a.acked[tag] = true
			}
			a.mu.Unlock()
			if nack {
				s.nack(tag, false)
			} else {
				s.ack(tag)
			}
			if rng.IntN(50) == 0 {
				s.flushDue() // the delay timer firing
			}
			if want := ""; true {
				if len(open) > 0 {
					want = fmt.Sprint("k", open[0])
				}
				if got := s.oldestKey(); got != want {
					t.Fatalf("seed %d: oldestKey %q, want %q (the lowest unsettled tag's)", seed, got, want)
				}
			}
			s.mu.Lock()
			live, due, held := s.live, len(s.due), len(s.tags)+len(s.due)
			s.mu.Unlock()
			if live != len(open) {
				t.Fatalf("seed %d: the tracker counts %d unsettled, the handlers hold %d", seed, live, len(open))
			}
			if bound := 2*live + compactMin + due; held > bound {
				t.Fatalf("seed %d: the tracker holds %d tags with %d unsettled and %d due, want at most %d", seed, held, live, due, bound)
			}
		}
		s.flushAll()
		s.kill()
		a.mu.Lock()
		for _, tag := range a.tracked {
			if (a.acked[tag] || a.nacked[tag]) != a.sent[tag] {
				a.problems = append(a.problems, fmt.Sprintf("tag %d: settled by a handler %v, on the wire %v", tag, a.acked[tag] || a.nacked[tag], a.sent[tag]))
			}
		}
		problems := a.problems
		a.mu.Unlock()
		if len(problems) > 0 {
			t.Fatalf("seed %d (window %d, batch %d): %d problems, the first: %v", seed, window, batch, len(problems), problems[:min(5, len(problems))])
		}
	}
}

// TestSetBatchFlushesWhatFillsIt: acks due under a large batch go out at
// once when a smaller batch they fill replaces it, and the delay timer
// they started stops.
func TestSetBatchFlushesWhatFillsIt(t *testing.T) {
	a := &countingAcker{}
	s := newAckTracker(a, 64, nil)
	defer s.kill()
	for tag := uint64(1); tag <= 10; tag++ {
		s.track(tag)
		s.ack(tag)
	}
	if a.acks != 0 {
		t.Fatalf("%d acks sent before the batch of 64 filled", a.acks)
	}
	s.setBatch(4)
	s.mu.Lock()
	acks, due, armed := a.acks, len(s.due), s.armed
	s.mu.Unlock()
	if acks != 1 || due != 0 {
		t.Fatalf("after setBatch(4): %d acks sent, %d still due; want 1 coalesced ack and none due", acks, due)
	}
	if armed {
		t.Fatal("the delay timer still runs with nothing due")
	}
}
