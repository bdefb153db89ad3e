package events

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
)

// modes runs f for a grouped consumer (a quorum queue) and an ungrouped
// one (the topic's stream queue), which redeliver by different means.
func modes(t *testing.T, f func(t *testing.T, e *env, topic string, group ConsumeOption, dlq string)) {
	t.Run("group", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		topic := e.topic("payments", "workers")
		f(t, e, topic, WithGroup("workers"), warren.DeadLetterQueue(GroupQueue(e.stream.Exchange(), "workers", topic)))
	})
	t.Run("stream", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		topic := e.topic("payments")
		f(t, e, topic, WithPrefetch(defaultPrefetch), warren.DeadLetterQueue(StreamQueue(e.stream.Exchange(), topic)))
	})
}

func TestNackRedeliversThenDeadLetters(t *testing.T) {
	modes(t, func(t *testing.T, e *env, topic string, group ConsumeOption, dlq string) {
		ch := e.consume(topic, group, WithAutoAck(false, time.Minute), WithRetryLimit(2))
		if err := e.stream.Publish(topic, map[string]string{"id": "p-1"}); err != nil {
			t.Fatal(err)
		}
		var first Event
		for attempt := 1; attempt <= 3; attempt++ {
			ev := receive(t, ch, 10*time.Second)
			if attempt == 1 {
				first = ev
			}
			if ev.ID != first.ID || ev.Attempt() != attempt {
				t.Fatalf("delivery %d: event %s attempt %d; want %s attempt %d", attempt, ev.ID, ev.Attempt(), first.ID, attempt)
			}
			if err := ev.Nack(); err != nil {
				t.Fatalf("nack %d: %v", attempt, err)
			}
			if err := ev.Ack(); !errors.Is(err, ErrAlreadySettled) && !errors.Is(err, ErrRedelivered) {
				t.Fatalf("ack after nack: %v; want ErrAlreadySettled", err)
			}
		}
		quiet(t, ch, 300*time.Millisecond)
		var dead []string
		eventually(t, 5*time.Second, "the event in the DLQ", func() bool {
			for _, d := range getAll(t, dlq) {
				dead = append(dead, d.MessageId)
				// Read as `warren dlq list` reads it.
				en := deadletter.EntryOf(&d)
				if en.Reason != warren.ReasonRequeueLimit || en.OriginalRoutingKey != topic || !en.HasOrigin ||
					en.Attempt != 3 || en.MessageID != first.ID || !strings.Contains(en.Error, "nacked by the consumer") {
					t.Errorf("dead-letter entry: %+v", en)
				}
				if age := time.Since(en.FailedAt); en.FailedAt.IsZero() || age < -2*time.Second || age > time.Minute {
					t.Errorf("dead-letter failed-at %v (header %T)", en.FailedAt, d.Headers[warren.HeaderFailedAt])
				}
				if en.Queue+".dlq" != dlq {
					t.Errorf("dead-letter queue header %q; want the queue of %s", en.Queue, dlq)
				}
				if string(d.Body) != `{"id":"p-1"}` {
					t.Errorf("dead-letter body %q", d.Body)
				}
			}
			return len(dead) > 0
		})
		if len(dead) != 1 || dead[0] != first.ID {
			t.Fatalf("DLQ holds %v; want [%s]", dead, first.ID)
		}
	})
}

func TestAckWaitRedelivers(t *testing.T) {
	modes(t, func(t *testing.T, e *env, topic string, group ConsumeOption, dlq string) {
		const wait = 300 * time.Millisecond
		ch := e.consume(topic, group, WithAutoAck(false, wait), WithRetryLimit(1))
		if err := e.stream.Publish(topic, "slow"); err != nil {
			t.Fatal(err)
		}
		first := receive(t, ch, 10*time.Second)
		start := time.Now()
		second := receive(t, ch, 10*time.Second) // not acked: it comes back
		if waited := time.Since(start); waited < wait-50*time.Millisecond {
			t.Fatalf("redelivered after %v; ack wait is %v", waited, wait)
		}
		if second.ID != first.ID || second.Attempt() != 2 {
			t.Fatalf("redelivery: %s attempt %d; want %s attempt 2", second.ID, second.Attempt(), first.ID)
		}
		if err := first.Ack(); !errors.Is(err, ErrRedelivered) {
			t.Fatalf("late ack of the first copy: %v; want ErrRedelivered", err)
		}
		// The retry limit (1) is used up: the second timeout dead-letters.
		quiet(t, ch, 3*wait)
		eventually(t, 5*time.Second, "the event in the DLQ", func() bool {
			got := getAll(t, dlq)
			return len(got) == 1 && got[0].MessageId == first.ID
		})
		if err := second.Ack(); !errors.Is(err, ErrRedelivered) {
			t.Fatalf("ack after dead-lettering: %v; want ErrRedelivered", err)
		}

		// An event acked in time is not redelivered.
		if err := e.stream.Publish(topic, "fast"); err != nil {
			t.Fatal(err)
		}
		ev := receive(t, ch, 10*time.Second)
		if err := ev.Ack(); err != nil {
			t.Fatalf("ack: %v", err)
		}
		if err := ev.Ack(); !errors.Is(err, ErrAlreadySettled) {
			t.Fatalf("second ack: %v; want ErrAlreadySettled", err)
		}
		quiet(t, ch, 3*wait)
	})
}

func TestAutoAckIgnoresAck(t *testing.T) {
	e := newEnv(t)
	topic := e.topic("auto")
	ch := e.consume(topic)
	if err := e.stream.Publish(topic, 1); err != nil {
		t.Fatal(err)
	}
	ev := receive(t, ch, 10*time.Second)
	if err := ev.Ack(); err != nil {
		t.Fatal(err)
	}
	if err := ev.Nack(); err != nil {
		t.Fatal(err)
	}
	quiet(t, ch, 300*time.Millisecond)
}
