package benchkit

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// fillChannels is how many channels Fill publishes on at least: two keep
// the broker busy while one waits for its confirms, even for one queue.
const fillChannels = 2

// fillWindow is how many confirms each fill channel keeps outstanding:
// persistent messages are confirmed once on disk, in batches, so a deep
// window keeps the broker writing.
const fillWindow = 1024

// Fill puts n persistent messages with bodies of size bytes into queues,
// spread evenly (the first queues take the remainder), as fast as the
// broker takes them: pipelined confirms on a few channels at once. It
// returns once every message is confirmed and counted in its queue, and
// fails tb otherwise. Message ids are the message's index, as a string.
func Fill(tb testing.TB, conn *amqp.Connection, queues []string, n, size int) {
	tb.Helper()
	if n == 0 {
		return
	}
	body := Body(size)
	want := Share(n, len(queues))
	lanes := max(fillChannels, len(queues))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, lanes)
	chans := make([]*amqp.Channel, lanes)
	for lane := range chans {
		chans[lane] = Channel(tb, conn)
		defer chans[lane].Close()
		if err := chans[lane].Confirm(false); err != nil {
			tb.Fatalf("benchkit: confirm mode: %v", err)
		}
	}
	for lane, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[lane] = fillLane(ctx, ch, queues, want, lane, lanes, body)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatalf("benchkit: fill %d messages: %v", n, err)
		}
	}
	if _, got := Depth(tb, conn, queues); !equal(got, want) {
		tb.Fatalf("benchkit: after fill, queue depths are %v, want %v", got, want)
	}
}

// fillLane publishes this lane's part: of every queue's messages, those
// whose index is lane modulo lanes.
func fillLane(ctx context.Context, ch *amqp.Channel, queues []string, want []int, lane, lanes int, body []byte) error {
	w := NewWindow(fillWindow)
	id := 0
	for q, name := range queues {
		for i := range want[q] {
			if (id+i)%lanes == lane {
				msg := Publishing(body)
				msg.MessageId = strconv.Itoa(id + i)
				if err := w.Publish(ctx, ch, "", name, msg); err != nil {
					return err
				}
			}
		}
		id += want[q]
	}
	return w.Wait(ctx)
}

// Share splits n into parts nearly equal parts, the first ones larger.
func Share(n, parts int) []int {
	s := make([]int, parts)
	for i := range s {
		s[i] = n / parts
		if i < n%parts {
			s[i]++
		}
	}
	return s
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
