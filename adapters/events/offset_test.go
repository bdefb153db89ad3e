package events

import (
	"context"
	"testing"
	"time"
)

// TestOffsetIncludesEventsPublishedRightAfter publishes events in a tight
// loop, noting the time just before each Publish, then replays from each
// of those times: the first event of every replay must be the one
// published right after its time, even when both fall in the same
// millisecond.
func TestOffsetIncludesEventsPublishedRightAfter(t *testing.T) {
	const n = 8
	e := newEnv(t)
	topic := e.topic("offset.edge")
	var at [n]time.Time
	for i := 0; i < n; i++ {
		at[i] = time.Now()
		if err := e.stream.Publish(topic, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	sameMilli := 0
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := e.stream.Consume(topic, WithOffset(at[i]), ConsumeContext(ctx))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		ev := receive(t, ch, 10*time.Second)
		cancel()
		for range ch {
		}
		if got := int(ev.Payload[0]); got != i {
			t.Errorf("replay from before event %d starts at event %d", i, got)
		}
		if i+1 < n && at[i].UnixMilli() == at[i+1].UnixMilli() {
			sameMilli++
		}
	}
	t.Logf("%d of %d offsets shared their millisecond with the next publish", sameMilli, n-1)
}
