package rabbitmq

import (
	"strconv"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

func memoMessage(id string, redelivered bool, headers amqp.Table) *warren.Message {
	return &warren.Message{MessageID: id, Exchange: "ex", RoutingKey: "Order.Created", Body: []byte(`{"n":1}`),
		Redelivered: redelivered, Headers: headers}
}

func TestCopyMemoKnowsOnlyRedeliveriesOfTheSameDelivery(t *testing.T) {
	memo := newCopyMemo(8)
	memo.remember(memoMessage("m1", false, amqp.Table{"tenant": "a"}))

	if memo.settled(memoMessage("m1", false, amqp.Table{"tenant": "a"})) {
		t.Error("a first delivery counted as settled: only a redelivery can be")
	}
	if !memo.settled(memoMessage("m1", true, amqp.Table{"tenant": "a", "x-delivery-count": int64(1)})) {
		t.Error("the redelivery (x-delivery-count raised by a quorum queue) was not known")
	}
	// A message replayed from the DLQ, or back from a wait queue, carries
	// other headers: a new delivery, settled on its own.
	if memo.settled(memoMessage("m1", true, amqp.Table{"tenant": "a", warren.HeaderReason: "error"})) {
		t.Error("a delivery with other headers counted as settled")
	}
	other := memoMessage("m1", true, amqp.Table{"tenant": "a"})
	other.Body = []byte(`{"n":2}`)
	if memo.settled(other) {
		t.Error("another body under the same id counted as settled")
	}
	memo.remember(memoMessage("", false, nil))
	if memo.settled(memoMessage("", true, nil)) {
		t.Error("a message without an id was remembered")
	}
}

func TestCopyMemoKeepsLostCopiesUntilConfirmed(t *testing.T) {
	memo := newCopyMemo(8)
	m := memoMessage("m1", false, nil)
	pub := &warren.Publishing{RoutingKey: "q.dlq"}
	memo.lost(m, pub)
	if _, ok := memo.pendingCopy(m); ok {
		t.Error("a first delivery got a pending copy")
	}
	redelivered := memoMessage("m1", true, nil)
	if got, ok := memo.pendingCopy(redelivered); !ok || got != pub {
		t.Fatalf("pending copy %v, %v; want the lost one", got, ok)
	}
	memo.remember(redelivered)
	if _, ok := memo.pendingCopy(redelivered); ok {
		t.Error("a confirmed copy is still pending")
	}
	if !memo.settled(redelivered) {
		t.Error("the confirmed copy is not known")
	}
}

func TestCopyMemoIsBounded(t *testing.T) {
	memo := newCopyMemo(4)
	for i := 0; i < 10; i++ {
		m := memoMessage(strconv.Itoa(i), false, nil)
		memo.remember(m)
		memo.lost(m, &warren.Publishing{})
	}
	if len(memo.known) != 4 || len(memo.order) != 4 || len(memo.pending) > 4 || len(memo.porder) > 4 {
		t.Errorf("memo holds %d known (%d ordered), %d pending (%d ordered); want at most 4 each",
			len(memo.known), len(memo.order), len(memo.pending), len(memo.porder))
	}
	if memo.settled(memoMessage("0", true, nil)) || !memo.settled(memoMessage("9", true, nil)) {
		t.Error("the oldest entry was kept or the newest forgotten")
	}
}
