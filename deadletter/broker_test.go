package deadletter_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
	"github.com/warren-mq/warren/internal/transport"
	"github.com/warren-mq/warren/warrentest"
)

// world is one test's broker topology: a work queue and its DLQ, and a
// topic exchange with a target queue bound to "Order.*", to observe where
// replayed messages go.
type world struct {
	t        *testing.T
	conn     *amqp.Connection
	ch       *amqp.Channel
	queue    string
	dlq      string
	exchange string
	target   string
	in       *deadletter.Inspector
}

func newWorld(t *testing.T) *world {
	t.Helper()
	conn := brokertest.Dial(t)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	w := &world{
		t: t, conn: conn, ch: ch,
		queue:    brokertest.Name(t, "work"),
		exchange: brokertest.Name(t, "events"),
		target:   brokertest.Name(t, "target"),
		in:       deadletter.NewInspector(conn),
	}
	w.dlq = warren.DeadLetterQueue(w.queue)
	brokertest.DeleteQueues(t, w.queue, w.dlq, w.target, deadletter.ReplayQueue(w.queue))
	brokertest.DeleteExchanges(t, w.exchange)
	w.declare(w.dlq, nil)
	w.declare(w.queue, amqp.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": w.dlq})
	w.declare(w.target, nil)
	if err := ch.ExchangeDeclare(w.exchange, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(w.target, "Order.*", w.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) declare(name string, args amqp.Table) {
	w.t.Helper()
	if _, err := w.ch.QueueDeclare(name, false, false, false, false, args); err != nil {
		w.t.Fatalf("declare %s: %v", name, err)
	}
}

// publish publishes p and waits for the broker's confirm.
func (w *world) publish(exchange, key string, p amqp.Publishing) {
	w.t.Helper()
	dc, err := w.ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, key, false, false, p)
	if err != nil {
		w.t.Fatal(err)
	}
	if !dc.Wait() {
		w.t.Fatalf("publish to %q/%q nacked", exchange, key)
	}
}

// deadLetter puts a message that failed in the work queue into the DLQ, as
// the consumer does, and returns its message id.
func (w *world) deadLetter(id, key, reason string) string {
	w.t.Helper()
	msg := warrentest.NewMessage(key, []byte("body of "+id),
		warrentest.WithMessageID(id), warrentest.WithExchange(w.exchange), warrentest.WithQueue(w.queue),
		warrentest.WithAttempt(3), warrentest.WithHeader("tenant", "acme"))
	msg.Route = "Order.*"
	p := deadletter.Publishing(msg, reason, fmt.Errorf("%s failed", id), time.Now())
	w.publish(p.Exchange, p.RoutingKey, p.Publishing)
	return id
}

func (w *world) depth(queue string) int {
	w.t.Helper()
	q, err := w.ch.QueueDeclarePassive(queue, false, false, false, false, nil)
	if err != nil {
		w.t.Fatalf("inspect %s: %v", queue, err)
	}
	return q.Messages
}

// drain consumes every message of queue (basic.get, auto-ack) in order.
func (w *world) drain(queue string) []amqp.Delivery {
	w.t.Helper()
	var out []amqp.Delivery
	for {
		d, ok, err := w.ch.Get(queue, true)
		if err != nil {
			w.t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, d)
	}
}

func ids[T any](xs []T, id func(T) string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = id(x)
	}
	return fmt.Sprint(s)
}

func entryIDs(es []deadletter.Entry) string {
	return ids(es, func(e deadletter.Entry) string { return e.MessageID })
}

func deliveryIDs(ds []amqp.Delivery) string {
	return ids(ds, func(d amqp.Delivery) string { return d.MessageId })
}

func TestListLeavesMessagesInPlace(t *testing.T) {
	w := newWorld(t)
	w.deadLetter("m1", "Order.Created", warren.ReasonError)
	w.deadLetter("m2", "Order.Paid", warren.ReasonPermanent)
	w.deadLetter("m3", "Order.Created", warren.ReasonError)
	w.deadLetter("m4", "Order.Shipped", warren.ReasonDecode)
	w.deadLetter("m5", "Order.Created", warren.ReasonError)
	ctx := context.Background()

	all, err := w.in.List(ctx, w.dlq, deadletter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := entryIDs(all); got != "[m1 m2 m3 m4 m5]" {
		t.Fatalf("List = %s", got)
	}
	e := all[1]
	if e.Reason != "permanent" || e.Error != "m2 failed" || e.Attempt != 3 || e.Queue != w.queue || e.Route != "Order.*" ||
		e.OriginalExchange != w.exchange || e.OriginalRoutingKey != "Order.Paid" || !e.HasOrigin ||
		e.BodySize != len("body of m2") || e.RoutingKey != w.dlq || time.Since(e.FailedAt) > time.Minute || e.Headers["tenant"] != "acme" {
		t.Errorf("entry %+v", e)
	}
	if n := w.depth(w.dlq); n != 5 {
		t.Fatalf("DLQ depth %d after List, want 5", n)
	}

	errs, err := w.in.List(ctx, w.dlq, deadletter.Filter{Reason: warren.ReasonError, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := entryIDs(errs); got != "[m1 m3]" {
		t.Errorf("List(reason error, limit 2) = %s", got)
	}
	one, _ := w.in.List(ctx, w.dlq, deadletter.Filter{MessageID: "m4"})
	if got := entryIDs(one); got != "[m4]" {
		t.Errorf("List(id m4) = %s", got)
	}

	// A partial List requeues what it read: on RabbitMQ each message goes
	// back to its original position, so the order is unchanged (at the
	// tail the order would be m4 m5 m1 m2 m3).
	if got, _ := w.in.List(ctx, w.dlq, deadletter.Filter{Limit: 3}); entryIDs(got) != "[m1 m2 m3]" {
		t.Errorf("List(limit 3) = %s", entryIDs(got))
	}
	if got := deliveryIDs(w.drain(w.dlq)); got != "[m1 m2 m3 m4 m5]" {
		t.Errorf("queue order after partial reads %s, want [m1 m2 m3 m4 m5]", got)
	}
}

func TestDepthAndMissingQueue(t *testing.T) {
	w := newWorld(t)
	w.deadLetter("m1", "Order.Created", warren.ReasonError)
	ctx := context.Background()
	if n, err := w.in.Depth(ctx, w.dlq); err != nil || n != 1 {
		t.Errorf("Depth = %d, %v; want 1", n, err)
	}
	missing := brokertest.Name(t, "missing")
	if _, err := w.in.List(ctx, missing, deadletter.Filter{}); !errorsIs(err, deadletter.ErrQueueNotFound) {
		t.Errorf("List of a missing queue: %v", err)
	}
	if _, err := w.in.Purge(ctx, missing); !errorsIs(err, deadletter.ErrQueueNotFound) {
		t.Errorf("Purge of a missing queue: %v", err)
	}
	if _, err := w.in.Depth(ctx, missing); !errorsIs(err, deadletter.ErrQueueNotFound) {
		t.Errorf("Depth of a missing queue: %v", err)
	}
}

func TestReplayMovesMessagesBackWithAttemptsReset(t *testing.T) {
	w := newWorld(t)
	w.deadLetter("m1", "Order.Created", warren.ReasonError)
	w.deadLetter("m2", "Order.Paid", warren.ReasonPermanent)
	w.deadLetter("m3", "Order.Created", warren.ReasonError)

	res, err := w.in.Replay(context.Background(), w.dlq, deadletter.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := entryIDs(res.Replayed); got != "[m1 m2 m3]" || len(res.Failed) != 0 {
		t.Fatalf("replayed %s, failed %v", got, res.Failed)
	}
	if n := w.depth(w.dlq); n != 0 {
		t.Errorf("DLQ depth %d after replay, want 0", n)
	}
	// Back to the queue that failed them, through its replay queue; not
	// to the exchange, where the target queue would get them again.
	waitDepth(t, w, w.queue, 3)
	got := w.drain(w.queue)
	if ids := deliveryIDs(got); ids != "[m1 m2 m3]" {
		t.Fatalf("work queue received %s", ids)
	}
	if n := w.depth(w.target); n != 0 {
		t.Errorf("replay fanned out: the other queue bound to the key got %d messages", n)
	}
	for _, d := range got {
		if d.Exchange != "" || d.RoutingKey != w.queue || string(d.Body) != "body of "+d.MessageId || d.Headers["tenant"] != "acme" || d.DeliveryMode != amqp.Persistent {
			t.Errorf("replayed %s: exchange %q key %q body %q headers %v", d.MessageId, d.Exchange, d.RoutingKey, d.Body, d.Headers)
		}
		for _, k := range []string{warren.HeaderAttempt, warren.HeaderReason, warren.HeaderExceptionMessage, warren.HeaderQueue} {
			if _, ok := d.Headers[k]; ok {
				t.Errorf("replayed %s still has %s", d.MessageId, k)
			}
		}
		if death := newestDeath(d); death["queue"] != deadletter.ReplayQueue(w.queue) || death["reason"] != "expired" {
			t.Errorf("replayed %s: newest x-death %v, want the replay queue's expiry", d.MessageId, death)
		}
		var m warren.Message
		transport.Get[*warren.Message]().FromDelivery(&m, &d, w.queue)
		if m.Attempt != 1 || d.Headers[warren.HeaderOriginalExchange] != w.exchange {
			t.Errorf("replayed %s is attempt %d from exchange %v, want 1 from %q", d.MessageId, m.Attempt, d.Headers[warren.HeaderOriginalExchange], w.exchange)
		}
		if d.MessageId == "m2" && d.Headers[warren.HeaderOriginalRoutingKey] != "Order.Paid" {
			t.Errorf("m2 replayed with original key %v, want Order.Paid", d.Headers[warren.HeaderOriginalRoutingKey])
		}
	}
}

func newestDeath(d amqp.Delivery) amqp.Table {
	deaths, _ := d.Headers["x-death"].([]any)
	if len(deaths) == 0 {
		return nil
	}
	t, _ := deaths[0].(amqp.Table)
	return t
}

func TestReplayDryRunMovesNothing(t *testing.T) {
	w := newWorld(t)
	w.deadLetter("m1", "Order.Created", warren.ReasonError)
	w.deadLetter("m2", "Order.Paid", warren.ReasonPermanent)

	res, err := w.in.Replay(context.Background(), w.dlq, deadletter.ReplayOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := entryIDs(res.Replayed); got != "[m1 m2]" || !res.DryRun {
		t.Fatalf("dry run would replay %s (DryRun %v)", got, res.DryRun)
	}
	if n := w.depth(w.dlq); n != 2 {
		t.Errorf("DLQ depth %d after a dry run, want 2", n)
	}
	if n := w.depth(w.target) + w.depth(w.queue); n != 0 {
		t.Errorf("%d messages moved in a dry run", n)
	}
}

func TestReplayFilterAndLimit(t *testing.T) {
	w := newWorld(t)
	w.deadLetter("m1", "Order.Created", warren.ReasonError)
	w.deadLetter("m2", "Order.Paid", warren.ReasonPermanent)
	w.deadLetter("m3", "Order.Created", warren.ReasonError)
	w.deadLetter("m4", "Order.Created", warren.ReasonError)

	res, err := w.in.Replay(context.Background(), w.dlq, deadletter.ReplayOptions{Filter: deadletter.Filter{Reason: "error", Limit: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if got := entryIDs(res.Replayed); got != "[m1 m3]" {
		t.Fatalf("replayed %s, want [m1 m3]", got)
	}
	waitDepth(t, w, w.queue, 2)
	if got := deliveryIDs(w.drain(w.queue)); got != "[m1 m3]" {
		t.Errorf("work queue received %s", got)
	}
	if got := deliveryIDs(w.drain(w.dlq)); got != "[m2 m4]" {
		t.Errorf("DLQ kept %s, want [m2 m4] in order", got)
	}
}

func TestReplayFailuresLeaveMessagesInDLQ(t *testing.T) {
	w := newWorld(t)
	// It failed in another queue: this DLQ's replay must not send it there.
	other := brokertest.Name(t, "other")
	w.publish("", w.dlq, amqp.Publishing{MessageId: "foreign", Headers: amqp.Table{
		warren.HeaderOriginalExchange: w.exchange, warren.HeaderOriginalRoutingKey: "Order.Created",
		warren.HeaderQueue: other, warren.HeaderReason: "error"}})
	w.publish("", w.dlq, amqp.Publishing{MessageId: "no-origin", Headers: amqp.Table{warren.HeaderReason: "error"}})
	w.deadLetter("good", "Order.Created", warren.ReasonError)

	res, err := w.in.Replay(context.Background(), w.dlq, deadletter.ReplayOptions{})
	if err == nil {
		t.Fatal("Replay reported no error with two messages left behind")
	}
	if !errorsIs(err, deadletter.ErrForeignQueue) {
		t.Errorf("error %v does not wrap the first failure (foreign queue)", err)
	}
	if got := entryIDs(res.Replayed); got != "[good]" {
		t.Errorf("replayed %s, want [good] (a failure must not stop the others)", got)
	}
	want := []error{deadletter.ErrForeignQueue, deadletter.ErrNoOrigin}
	if len(res.Failed) != len(want) {
		t.Fatalf("failed %v, want 2", res.Failed)
	}
	for i, f := range res.Failed {
		if !errorsIs(f.Err, want[i]) {
			t.Errorf("failure %s: %v, want %v", f.Entry.MessageID, f.Err, want[i])
		}
	}
	waitDepth(t, w, w.queue, 1)
	if got := deliveryIDs(w.drain(w.queue)); got != "[good]" {
		t.Errorf("work queue received %s", got)
	}
	if got := deliveryIDs(w.drain(w.dlq)); got != "[foreign no-origin]" {
		t.Errorf("DLQ kept %s, want the two failures in order", got)
	}

	// The work queue is gone: the broker would drop what its replay queue
	// dead-letters, so nothing moves.
	w.deadLetter("orphan", "Order.Created", warren.ReasonError)
	if _, err := w.ch.QueueDelete(w.queue, false, false, false); err != nil {
		t.Fatal(err)
	}
	res, err = w.in.Replay(context.Background(), w.dlq, deadletter.ReplayOptions{})
	if !errorsIs(err, deadletter.ErrQueueNotFound) || len(res.Replayed) != 0 {
		t.Errorf("replay into a deleted queue: replayed %s, err %v; want none and ErrQueueNotFound", entryIDs(res.Replayed), err)
	}
	if n := w.depth(w.dlq); n != 1 {
		t.Errorf("DLQ depth %d, want the orphan kept", n)
	}
}

// TestReplayFromBrokerDeadLetter replays a message the broker dead-lettered
// itself (nack without requeue through the work queue's DLX): no warren
// headers, only x-death.
func TestReplayFromBrokerDeadLetter(t *testing.T) {
	w := newWorld(t)
	if err := w.ch.QueueBind(w.queue, "Order.*", w.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	w.publish(w.exchange, "Order.Created", amqp.Publishing{MessageId: "raw", Body: []byte("x")})
	d, ok, err := w.ch.Get(w.queue, false)
	if err != nil || !ok {
		t.Fatalf("get from work queue: %v %v", ok, err)
	}
	if err := d.Nack(false, false); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, w, w.dlq, 1)
	w.drain(w.target) // the original publish reached the target too

	list, err := w.in.List(context.Background(), w.dlq, deadletter.Filter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if e := list[0]; e.Reason != "rejected" || e.Queue != w.queue || !e.HasOrigin || e.OriginalExchange != w.exchange || e.OriginalRoutingKey != "Order.Created" {
		t.Fatalf("entry from x-death: %+v", e)
	}
	if _, err := w.in.Replay(context.Background(), w.dlq, deadletter.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, w, w.queue, 1)
	got := w.drain(w.queue)
	if deliveryIDs(got) != "[raw]" {
		t.Fatalf("work queue received %s", deliveryIDs(got))
	}
	if n := w.depth(w.target); n != 0 {
		t.Errorf("replay fanned out to the target queue (%d)", n)
	}
	if deaths, _ := got[0].Headers["x-death"].([]any); len(deaths) != 1 || newestDeath(got[0])["queue"] != deadletter.ReplayQueue(w.queue) {
		t.Errorf("replayed message's x-death %v, want only the replay queue's entry", got[0].Headers["x-death"])
	}
}

func TestPurge(t *testing.T) {
	w := newWorld(t)
	for i := range 4 {
		w.deadLetter(fmt.Sprint("m", i), "Order.Created", warren.ReasonError)
	}
	n, err := w.in.Purge(context.Background(), w.dlq)
	if err != nil || n != 4 {
		t.Fatalf("Purge = %d, %v; want 4", n, err)
	}
	if d := w.depth(w.dlq); d != 0 {
		t.Errorf("depth %d after Purge", d)
	}
}

func TestCancelledContextLosesNothing(t *testing.T) {
	w := newWorld(t)
	w.deadLetter("m1", "Order.Created", warren.ReasonError)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.in.Replay(ctx, w.dlq, deadletter.ReplayOptions{}); !errorsIs(err, context.Canceled) {
		t.Errorf("Replay with a cancelled context: %v", err)
	}
	if n := w.depth(w.dlq); n != 1 {
		t.Errorf("depth %d, want 1", n)
	}
}

func waitDepth(t *testing.T, w *world, queue string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.depth(queue) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %d messages", queue, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListQuorumQueueLosesNothing: a quorum queue (RabbitMQ 3.10) puts
// requeued messages at its tail, not back in place, so a partial List
// reorders it; it must still lose nothing and duplicate nothing.
func TestListQuorumQueueLosesNothing(t *testing.T) {
	w := newWorld(t)
	w.queue = brokertest.Name(t, "quorum")
	w.dlq = warren.DeadLetterQueue(w.queue)
	brokertest.DeleteQueues(t, w.dlq)
	if _, err := w.ch.QueueDeclare(w.dlq, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m1", "m2", "m3", "m4", "m5"} {
		w.deadLetter(id, "Order.Created", warren.ReasonError)
	}
	if got, _ := w.in.List(context.Background(), w.dlq, deadletter.Filter{Limit: 3}); entryIDs(got) != "[m1 m2 m3]" {
		t.Fatalf("List(limit 3) = %s", entryIDs(got))
	}
	// Right after a List the queue's count lags behind its requeues; a
	// second List must still see every message.
	if got, _ := w.in.List(context.Background(), w.dlq, deadletter.Filter{}); len(got) != 5 {
		t.Fatalf("List right after List = %s, want all 5", entryIDs(got))
	}
	waitDepth(t, w, w.dlq, 5)
	got := w.drain(w.dlq)
	sort.Slice(got, func(i, j int) bool { return got[i].MessageId < got[j].MessageId })
	if ids := deliveryIDs(got); ids != "[m1 m2 m3 m4 m5]" {
		t.Errorf("quorum DLQ holds %s after List, want each message once", ids)
	}
}
