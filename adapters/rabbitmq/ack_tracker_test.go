package rabbitmq

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// fillQueue declares a fresh queue and puts n messages in it, bodies 0..n-1.
func fillQueue(t *testing.T, ch *amqp.Channel, n int) string {
	t.Helper()
	q, err := ch.QueueDeclare(brokertest.Name(t, "q"), false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueues(t, q.Name)
	for i := 0; i < n; i++ {
		if err := ch.PublishWithContext(context.Background(), "", q.Name, false, false,
			amqp.Publishing{Body: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "the queue to fill", func() bool { return depth(t, ch, q.Name) == n })
	return q.Name
}

// TestCoalescedAcksNeverAckUnsettled settles deliveries out of order on a
// real channel, with some never settled, then closes the channel: the
// broker must redeliver exactly the unsettled ones, so no coalesced ack
// covered a message still being handled, and none of the settled ones.
func TestCoalescedAcksNeverAckUnsettled(t *testing.T) {
	conn := brokertest.Dial(t)
	admin, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	queue := fillQueue(t, admin, n)

	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(n, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newAckTracker(ch, 8, nil)
	defer s.kill()
	var tags []uint64
	byTag := map[uint64]int{}
	for len(tags) < n {
		d := <-deliveries
		tags = append(tags, d.DeliveryTag)
		s.track(d.DeliveryTag)
		i, _ := strconv.Atoi(string(d.Body))
		byTag[d.DeliveryTag] = i
	}
	// Settle in a scrambled order; leave every 7th unsettled ("in flight")
	// and nack-requeue every 11th.
	unsettled := map[int]bool{}
	order := append([]uint64(nil), tags...)
	sort.Slice(order, func(a, b int) bool { return (order[a]*7919)%n < (order[b]*7919)%n })
	for _, tag := range order {
		i := byTag[tag]
		switch {
		case i%7 == 3:
			unsettled[i] = true
		case i%11 == 5:
			s.nack(tag, true)
			unsettled[i] = true // requeued: it comes back too
		default:
			s.ack(tag)
		}
	}
	s.flushAll()
	if s.err() != nil {
		t.Fatalf("the channel refused an ack: %v", s.err())
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}

	back := map[int]bool{}
	eventually(t, 5*time.Second, "the unsettled messages to return", func() bool {
		return depth(t, admin, queue) == len(unsettled)
	})
	for _, d := range drain(t, admin, queue) {
		i, _ := strconv.Atoi(string(d.Body))
		back[i] = true
	}
	if fmt.Sprint(sortedKeys(back)) != fmt.Sprint(sortedKeys(unsettled)) {
		t.Fatalf("redelivered %v\nwant exactly the unsettled %v", sortedKeys(back), sortedKeys(unsettled))
	}
}

// TestDeadChannelSendsNothing checks that settling tags of a tracker whose
// channel is gone sends nothing, and in particular nothing on a new
// channel.
func TestDeadChannelSendsNothing(t *testing.T) {
	conn := brokertest.Dial(t)
	admin, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	queue := fillQueue(t, admin, 3)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newAckTracker(ch, 1, nil)
	d := <-deliveries
	s.track(d.DeliveryTag)
	_ = ch.Close()
	s.kill()
	s.ack(d.DeliveryTag)
	s.nack(d.DeliveryTag, false)
	s.flushAll()
	if s.err() != nil {
		t.Fatalf("a dead tracker tried to send: %v", s.err())
	}
	eventually(t, 5*time.Second, "all three messages back", func() bool { return depth(t, admin, queue) == 3 })
}

func sortedKeys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
