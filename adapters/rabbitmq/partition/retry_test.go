package partition

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	part "github.com/warren-mq/warren/partition"
	"github.com/warren-mq/warren/retry"
)

// TestRetryOrder fails message 3 of one key once and records the order of
// successful handlings: retry in place holds the partition (0..9 in
// order); delayed retry lets 4..9 pass message 3, as documented. A message
// that fails for good is dead-lettered without holding the partition.
func TestRetryOrder(t *testing.T) {
	inPlace := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	delayed := []int{0, 1, 2, 4, 5, 6, 7, 8, 9, 3}
	t.Run("in-place", func(t *testing.T) { retryOrder(t, false, inPlace) })
	t.Run("delayed", func(t *testing.T) { retryOrder(t, true, delayed) })
}

func retryOrder(t *testing.T, delayedRetry bool, want []int) {
	exchange := brokertest.Name(t, "ex")
	layout := part.Layout{
		Exchange:   warren.Exchange{Name: exchange, Kind: warren.KindTopic},
		Queue:      warren.Queue{Name: brokertest.Name(t, "q")},
		Partitions: 2,
	}
	var opts []Option
	delay := 300 * time.Millisecond
	queues := []string{}
	for _, q := range layout.QueueNames() {
		queues = append(queues, q, warren.DeadLetterQueue(q), warren.WaitQueue(q, delay))
	}
	brokertest.DeleteQueues(t, append(queues, part.Roster(layout.Queue.Name))...)
	brokertest.DeleteExchanges(t, exchange, part.HashExchange(layout.Queue.Name))

	var mu sync.Mutex
	var got []int
	failed := map[int]bool{}
	r := warren.NewRouter()
	if delayedRetry {
		opts = append(opts, DelayedRetry(retry.Delays(delay)))
	} else {
		r.Use(retry.Backoff(retry.MaxAttempts(3), retry.InitialInterval(50*time.Millisecond)))
	}
	r.HandleFunc("Order.*", func(_ context.Context, m *warren.Message) error {
		n, _ := strconv.Atoi(string(m.Body))
		mu.Lock()
		defer mu.Unlock()
		if n == 3 && !failed[n] {
			failed[n] = true
			return errors.New("fail once")
		}
		if n == 99 {
			return warren.Permanent(errors.New("poison"))
		}
		got = append(got, n)
		return nil
	})
	client := dialClient(t, brokertest.Name(t, "inst"))
	ctx, cancel := context.WithCancel(context.Background())
	c, err := New(ctx, client, r, layout, opts...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	pub := client.Publisher()
	send := func(n int) {
		if err := pub.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: "Order.k",
			Publishing: amqp.Publishing{Body: []byte(strconv.Itoa(n))}}); err != nil {
			t.Fatal(err)
		}
	}
	send(99) // poison first: dead-lettered, the rest still flows
	for n := 0; n < 10; n++ {
		send(n)
	}
	brokertest.Eventually(t, 20*time.Second, "ten messages handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("handled %v, want %v", got, want)
		}
	}
	ch := brokertest.Channel(t)
	dl := 0
	for _, q := range layout.QueueNames() {
		dl += brokertest.Depth(t, ch, warren.DeadLetterQueue(q))
	}
	if dl != 1 {
		t.Fatalf("%d messages dead-lettered, want the poison one", dl)
	}
}
