package partition

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	part "github.com/warren-mq/warren/partition"
)

// TestGracefulStopKeepsOrder queues 3,000 messages over 20 keys in a
// one-partition layout with two instances, stops the active one
// gracefully (Run's context cancelled) a quarter of the way through, with
// its prefetch full, and checks that no key's sequence skips ahead when
// the standby takes over, on a classic and on a quorum partition queue.
//
// A graceful stop sent basic.cancel first and returned the prefetched
// messages no handler started when the channel closed. A classic queue
// (RabbitMQ 3.10) keeps the cancelled consumer active until those are
// back, so order held; a quorum queue makes the standby active at
// basic.cancel, and about one prefetch's worth of keys skipped ahead. The
// partition consumers now release the queue without the cancel
// (rabbitmq.WithReleaseOnShutdown): the standby becomes active when the
// channel closes, with every unsettled message back in the queue.
func TestGracefulStopKeepsOrder(t *testing.T) {
	t.Run("classic", func(t *testing.T) { gracefulStop(t, warren.Classic) })
	t.Run("quorum", func(t *testing.T) { gracefulStop(t, warren.Quorum) })
}

func gracefulStop(t *testing.T, kind warren.QueueType) {
	exchange := brokertest.Name(t, "ex")
	layout := part.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic, Durable: true},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q"), Durable: true, Type: kind},
		Partitions: 1,
	}
	brokertest.DeleteQueues(t, layout.QueueNames()[0], warren.DeadLetterQueue(layout.QueueNames()[0]), part.Roster(layout.Queue.Name))
	brokertest.DeleteExchanges(t, exchange, part.HashExchange(layout.Queue.Name))

	const keys, total = 20, 3000
	var mu sync.Mutex
	last := map[int]int{}
	seen := map[int]bool{}
	var violations []string
	handler := func(inst int) *warren.Router {
		r := warren.NewRouter()
		r.HandleFunc("Order.*", func(_ context.Context, m *warren.Message) error {
			var key, seq int
			if _, err := fmt.Sscanf(string(m.Body), "%d:%d", &key, &seq); err != nil {
				return warren.Permanent(err)
			}
			time.Sleep(time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			l, ok := last[key]
			if !ok {
				l = -1
			}
			if seq > l+1 {
				violations = append(violations, fmt.Sprintf("key %d: seq %d before %d (instance %d)", key, seq, l+1, inst))
			}
			last[key] = max(l, seq)
			seen[seq*keys+key] = true
			return nil
		})
		return r
	}
	runs := make([]chan error, 2)
	cancels := make([]context.CancelFunc, 2)
	for i := range runs {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		c, err := New(ctx, dialClient(t, brokertest.Name(t, fmt.Sprint("inst", i))), handler(i), layout, Rebalance(0))
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = make(chan error, 1)
		go func() { runs[i] <- c.Run(ctx) }()
		if i == 0 {
			brokertest.Eventually(t, 10*time.Second, "instance 0 subscribed first", func() bool { return c.Held() == 1 })
		}
	}
	defer func() {
		for i := range runs {
			cancels[i]()
			if err := <-runs[i]; err != nil {
				t.Error(err)
			}
		}
	}()
	// Everything is queued first, so the active instance's prefetch is
	// full when it stops.
	pub := dialClient(t, brokertest.Name(t, "pub")).Publisher()
	ctx := context.Background()
	var pending []*rabbitmq.Confirmation
	for j := 0; j < total; j++ {
		cf, err := pub.PublishDeferred(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: fmt.Sprintf("Order.k%d", j%keys),
			Publishing: amqp.Publishing{Body: []byte(fmt.Sprintf("%d:%d", j%keys, j/keys))}})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, cf)
	}
	for _, cf := range pending {
		if err := cf.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.Eventually(t, 30*time.Second, "a quarter handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) >= total/4
	})
	cancels[0]() // graceful stop of the active instance mid-stream
	brokertest.Eventually(t, 60*time.Second, "every message handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == total
	})
	mu.Lock()
	defer mu.Unlock()
	for i, v := range violations {
		if i == 10 {
			t.Errorf("... %d violations in all", len(violations))
			break
		}
		t.Error(v)
	}
}
