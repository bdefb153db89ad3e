package rabbitmq

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestDefaultPrefetchFollowsWorkers holds every handler and reads, from
// the broker, how many messages the consumer took: the prefetch it asked
// for. Without WithPrefetch it is DefaultPrefetch up to 32 workers and
// DefaultPrefetchPerWorker per worker above; WithPrefetch is kept as given
// whatever the workers.
func TestDefaultPrefetchFollowsWorkers(t *testing.T) {
	const published = 400
	for _, tc := range []struct {
		name string
		opts []ConsumerOption
		want int
	}{
		{"defaults", nil, DefaultPrefetch},
		{"workers=40", []ConsumerOption{WithWorkers(40)}, 40 * DefaultPrefetchPerWorker},
		{"workers=40/prefetch=128", []ConsumerOption{WithWorkers(40), WithPrefetch(128)}, 128},
		{"prefetch=10/workers=40", []ConsumerOption{WithPrefetch(10), WithWorkers(40)}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := newTestClient(t)
			spec := testSpec(t)
			release := make(chan struct{})
			r := warren.NewRouter()
			r.HandleFunc("#", func(ctx context.Context, m *warren.Message) error {
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
				return nil
			})
			cons, err := client.NewConsumer(context.Background(), r, spec, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			stop := runConsumer(t, cons)
			var once sync.Once
			releaseHandlers := func() { once.Do(func() { close(release) }) }
			t.Cleanup(releaseHandlers) // before runConsumer's cleanup stops it
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := publishAll(ctx, client.Publisher(), spec.Exchange.Name, "k", "p", published, 4); err != nil {
				t.Fatal(err)
			}
			admin := brokertest.Channel(t)
			taken := func() int { return published - depth(t, admin, spec.Queue.Name) }
			for deadline := time.Now().Add(10 * time.Second); taken() < tc.want && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // room for more than the prefetch to arrive
			if n := taken(); n != tc.want {
				t.Fatalf("the consumer holds %d messages, want a prefetch of %d", n, tc.want)
			}
			releaseHandlers()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPrefetchBeyondQosIsRefused: basic.qos carries the prefetch in 16
// bits, and amqp091-go sends a larger one cut to them (65,536 goes out as
// 0, unlimited). NewConsumer and SetPrefetch refuse it instead, and the
// default for many workers stops at MaxPrefetch.
func TestPrefetchBeyondQosIsRefused(t *testing.T) {
	client := newTestClient(t)
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("#", func(context.Context, *warren.Message) error { return nil })
	if _, err := client.NewConsumer(context.Background(), r, spec, WithPrefetch(MaxPrefetch+1)); err == nil {
		t.Fatalf("NewConsumer accepted prefetch %d, which basic.qos would carry as 0 (unlimited)", MaxPrefetch+1)
	} else {
		t.Logf("refused: %v", err)
	}
	cons, err := client.NewConsumer(context.Background(), r, spec, WithPrefetch(MaxPrefetch))
	if err != nil {
		t.Fatalf("NewConsumer refused prefetch %d: %v", MaxPrefetch, err)
	}
	if err := cons.SetPrefetch(MaxPrefetch + 1); err == nil {
		t.Fatalf("SetPrefetch accepted %d", MaxPrefetch+1)
	}
	if err := cons.SetPrefetch(MaxPrefetch); err != nil {
		t.Fatalf("SetPrefetch(%d): %v", MaxPrefetch, err)
	}
	for _, workers := range []int{16384, 100000} {
		if got := defaultPrefetch(workers); got != MaxPrefetch {
			t.Errorf("the default prefetch for %d workers is %d, want %d", workers, got, MaxPrefetch)
		}
	}
}

// TestAckBatchFollowsPrefetch: the ack batch is worked out for the
// prefetch a channel consumes with, so a batch defaulted from the prefetch
// the consumer was made with does not outlive a SetPrefetch. Left at half
// the old prefetch, a smaller window never fills it and every ack waits
// for the delay timer: BenchmarkSetPrefetch ran at 0.21-0.34x a consumer
// made with that prefetch, and runs level with it now.
func TestAckBatchFollowsPrefetch(t *testing.T) {
	defaults, explicit := defaultConsumerConfig(), defaultConsumerConfig()
	WithAckBatch(100).applyConsumer(explicit)
	for _, tc := range []struct {
		cfg      *consumerConfig
		prefetch int
		want     int
	}{
		{defaults, 128, 64}, {defaults, 16, 8}, {defaults, 1, 1}, {defaults, 0, 256},
		{explicit, 500, 100}, {explicit, 16, 16}, {explicit, 0, 100},
	} {
		if got := tc.cfg.ackBatchFor(tc.prefetch); got != tc.want {
			t.Errorf("ack batch %d at prefetch %d (WithAckBatch %d), want %d", got, tc.prefetch, tc.cfg.ackBatch, tc.want)
		}
	}

	client := newTestClient(t)
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("#", func(context.Context, *warren.Message) error { return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.SetPrefetch(4); err != nil {
		t.Fatal(err)
	}
	cc, _, err := cons.open() // as Run opens each channel
	if err != nil {
		t.Fatal(err)
	}
	defer cc.abandon() // kills its tracker and closes the channel, as Run does
	batch := func() int {
		cc.acks.mu.Lock()
		defer cc.acks.mu.Unlock()
		return cc.acks.batch
	}
	if got := batch(); got != 2 {
		t.Fatalf("a channel opened after SetPrefetch(4) coalesces %d acks, want 2", got)
	}
	if err := cons.SetPrefetch(10); err != nil {
		t.Fatal(err)
	}
	if err := cons.changePrefetch(cc); err != nil { // as the running consumer does
		t.Fatal(err)
	}
	if got := batch(); got != 5 {
		t.Fatalf("after SetPrefetch(10) on the open channel the batch is %d, want 5", got)
	}
}
