package retry

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/warren-mq/warren"
)

// MaxWaitQueues bounds the delays of a Policy, and so the wait queues it
// needs per work queue.
const MaxWaitQueues = 255

// Policy is a delayed-retry policy: after delivery n of a message failed,
// the transport republishes it to the wait queue of Delays[n-1]
// (<queue>.retry.<delay>, whose x-message-ttl dead-letters it back to the
// work queue after the delay), with the attempt count incremented. When
// the delays are used up, the message is dead-lettered with reason "error".
//
// The zero Policy has no delays: no delayed retry.
type Policy struct {
	delays []time.Duration
}

// Delays returns a policy that retries after each delay in turn:
//
//	retry.Delays(5*time.Second, time.Minute, 10*time.Minute) // 4 deliveries at most
//
// A delay may repeat: its wait queue serves every tier that uses it.
// Delays panics if a delay is not positive or not a whole number of
// milliseconds (the unit of x-message-ttl), or if there are more than
// MaxWaitQueues of them. Delays() is the zero Policy.
func Delays(d ...time.Duration) Policy {
	if len(d) > MaxWaitQueues {
		panic(fmt.Sprintf("warren: retry.Delays: %d delays, at most %d", len(d), MaxWaitQueues))
	}
	for i, x := range d {
		if x <= 0 || x%time.Millisecond != 0 {
			panic(fmt.Sprintf("warren: retry.Delays: delay %d is %v; delays must be positive whole milliseconds", i+1, x))
		}
	}
	if len(d) == 0 {
		return Policy{}
	}
	return Policy{delays: slices.Clone(d)}
}

// Next returns the wait after delivery attempt failed (attempts count from
// 1; a smaller one counts as 1), and false when no delayed retry is left:
// the message is then dead-lettered.
func (p Policy) Next(attempt int) (delay time.Duration, ok bool) {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > len(p.delays) {
		return 0, false
	}
	return p.delays[attempt-1], true
}

// Len returns the number of delayed retries: a message is delivered at
// most Len()+1 times.
func (p Policy) Len() int { return len(p.delays) }

// WaitDelays returns the distinct delays in ascending order: one wait queue
// to declare for each.
func (p Policy) WaitDelays() []time.Duration {
	out := slices.Clone(p.delays)
	slices.Sort(out)
	return slices.Compact(out)
}

// String renders the delays as in wait queue names, comma-separated, e.g.
// "200ms,1s,1m30s"; the zero Policy renders as "none".
func (p Policy) String() string {
	if len(p.delays) == 0 {
		return "none"
	}
	parts := make([]string, len(p.delays))
	for i, d := range p.delays {
		parts[i] = warren.FormatDelay(d)
	}
	return strings.Join(parts, ",")
}
