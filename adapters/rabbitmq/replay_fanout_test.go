package rabbitmq

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestReplayReachesOnlyTheFailedQueue (defect 9): two services consume the
// same key from one exchange; one fails the message into its DLQ. Replaying
// that DLQ gives the message back to that service alone, dispatched by its
// original routing key; the other service does not handle it again.
func TestReplayReachesOnlyTheFailedQueue(t *testing.T) {
	client := newTestClient(t)
	stream := brokertest.Name(t, "stream")
	specA, specB := TopicSpec(stream, "a"), TopicSpec(stream, "b")
	for _, s := range []Spec{specA, specB} {
		brokertest.DeleteQueues(t, s.Queue.Name, warren.DeadLetterQueue(s.Queue.Name), deadletter.ReplayQueue(s.Queue.Name))
	}
	brokertest.DeleteExchanges(t, specA.Exchange.Name)

	var mu sync.Mutex
	var fixed bool
	var keysA, keysB []string
	routerA := warren.NewRouter()
	routerA.HandleFunc("Order.Created", func(_ context.Context, m *warren.Message) error {
		mu.Lock()
		defer mu.Unlock()
		keysA = append(keysA, m.RoutingKey)
		if !fixed {
			return warren.Permanent(errors.New("not yet"))
		}
		return nil
	})
	routerB := warren.NewRouter()
	routerB.HandleFunc("Order.Created", func(_ context.Context, m *warren.Message) error {
		mu.Lock()
		defer mu.Unlock()
		keysB = append(keysB, m.RoutingKey)
		return nil
	})
	consA, err := client.NewConsumer(context.Background(), routerA, specA)
	if err != nil {
		t.Fatal(err)
	}
	consB, err := client.NewConsumer(context.Background(), routerB, specB)
	if err != nil {
		t.Fatal(err)
	}
	stopA, stopB := runConsumer(t, consA), runConsumer(t, consB)
	ch := brokertest.Channel(t)
	dlqA := warren.DeadLetterQueue(specA.Queue.Name)
	// Both consumers have declared and bound their queues once the
	// exchange takes the publish to both.
	eventually(t, 10*time.Second, "both consumers bound", func() bool {
		_, errA := ch.QueueDeclarePassive(specA.Queue.Name, true, false, false, false, nil)
		_, errB := ch.QueueDeclarePassive(specB.Queue.Name, true, false, false, false, nil)
		if errA != nil || errB != nil {
			ch = brokertest.Channel(t)
			return false
		}
		return true
	})
	time.Sleep(200 * time.Millisecond) // bindings follow the declarations
	publishTo(t, context.Background(), client.Publisher(), specA.Exchange.Name, "Order.Created", "{}", nil)
	eventually(t, 10*time.Second, "A dead-lettered it, B handled it", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(keysB) == 1 && depth(t, ch, dlqA) == 1
	})

	mu.Lock()
	fixed = true
	mu.Unlock()
	res, err := deadletter.NewInspector(brokertest.Dial(t)).Replay(context.Background(), dlqA, deadletter.ReplayOptions{})
	if err != nil || len(res.Replayed) != 1 {
		t.Fatalf("replay: %d replayed, %v", len(res.Replayed), err)
	}
	eventually(t, 10*time.Second, "A handled the replay", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(keysA) == 2
	})
	time.Sleep(500 * time.Millisecond) // room for a fan-out to show
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("A handled with keys %v, B with %v", keysA, keysB)
	if len(keysB) != 1 {
		t.Errorf("B handled the message %d times, want once: the replay fanned out", len(keysB))
	}
	if len(keysA) != 2 || keysA[1] != "Order.Created" {
		t.Errorf("A's keys %v, want the replay dispatched by Order.Created", keysA)
	}
	if d := depth(t, ch, dlqA); d != 0 {
		t.Errorf("A's DLQ holds %d after the replay", d)
	}
}
