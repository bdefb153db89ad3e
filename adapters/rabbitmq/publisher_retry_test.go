package rabbitmq

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// publishFailures counts the publishes that failed with an error Send
// retries.
type publishFailures struct {
	warren.NopObserver
	n atomic.Int64
}

func (o *publishFailures) ObservePublish(e warren.PublishEvent) {
	if e.Err != nil && retriable(e.Err) {
		o.n.Add(1)
	}
}

type sendRetryMsg struct{ N int }

// TestSendRetryAcrossConnectionLoss: Send with WithSendRetry keeps
// publishing while the broker closes the publishing connection again and
// again: publishes caught in flight fail with ErrConfirmLost (counted: the
// fault was real), Send publishes them again with the same message id, and
// every Send returns nil. The queue then holds every message, a message
// sent twice under one id (distinct ids = sends).
func TestSendRetryAcrossConnectionLoss(t *testing.T) {
	obs := &publishFailures{}
	client := newTestClient(t, WithObserver(obs), WithReconnect(20*time.Millisecond, 200*time.Millisecond, 0))
	spec := testSpec(t)
	ch := brokertest.Channel(t)
	if _, err := ch.QueueDeclare(spec.Queue.Name, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pub, err := client.NewPublisher(ctx, warren.Exchange{Name: ""}, WithTypeKeys(KeyFor[sendRetryMsg](spec.Queue.Name)), WithSendRetry(5))
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	var sendErrs []error
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := pub.Send(ctx, sendRetryMsg{N: i}); err != nil {
					mu.Lock()
					sendErrs = append(sendErrs, err)
					mu.Unlock()
					return
				}
				sent.Add(1)
			}
		}()
	}
	for closes := 0; closes < 6 && (closes < 2 || obs.n.Load() == 0); closes++ {
		time.Sleep(300 * time.Millisecond)
		closeConnections(t, client.Name()+".publish", "send retry test")
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(sendErrs) > 0 {
		t.Fatalf("Send failed despite the retry: %v", errors.Join(sendErrs...))
	}
	if obs.n.Load() == 0 {
		t.Fatal("no publish was caught in flight by the connection losses: the test proved nothing")
	}
	total, distinct := 0, map[string]bool{}
	eventually(t, 10*time.Second, "every message queued", func() bool { return depth(t, ch, spec.Queue.Name) >= int(sent.Load()) })
	for _, d := range drain(t, ch, spec.Queue.Name) {
		total++
		distinct[d.MessageId] = true
	}
	t.Logf("%d sends, %d publishes retried, %d queued (%d distinct ids)", sent.Load(), obs.n.Load(), total, len(distinct))
	if len(distinct) != int(sent.Load()) {
		t.Fatalf("%d distinct message ids for %d sends: a retry changed the id, or a message was lost", len(distinct), sent.Load())
	}
}

// TestSendThatBreaksIsConfirmLost: a publish whose send fails because the
// connection broke under it (here the broker stops reading and the write
// times out; on a cluster, the node's CONNECTION_FORCED) returns
// ErrConfirmLost, the error that says the message may have arrived, so
// that WithSendRetry sends it again; it returned the bare socket error.
func TestSendThatBreaksIsConfirmLost(t *testing.T) {
	proxy := startOutageProxy(t)
	client := dialThrough(t, proxy, WithReconnect(50*time.Millisecond, 200*time.Millisecond, 0),
		WithWriteTimeout(500*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: "amq.direct", RoutingKey: "nowhere"}); err != nil {
		t.Fatal(err)
	}
	proxy.stopReading(t)
	err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: "amq.direct", RoutingKey: "nowhere",
		Publishing: amqp.Publishing{Body: make([]byte, 32<<20)}})
	t.Logf("%v", err)
	if !errors.Is(err, ErrConfirmLost) {
		t.Fatalf("a send the broken connection failed: %v, want ErrConfirmLost", err)
	}
}
