package rabbitmq

import (
	"fmt"
	"hash/fnv"
	"sort"
	"sync"

	"github.com/warren-mq/warren"
)

// copyMemo remembers the deliveries whose settlement copy (a dead letter or
// a retry) the broker confirmed. The ack that follows a confirmed copy is
// not confirmed itself: when the connection is lost before the broker read
// it, the broker delivers the message again, and settling that delivery
// once more would write a second copy (twice in the DLQ) and run the
// handler again. A redelivered message the memo knows is acked at once
// instead (ConsumerCopyExists).
//
// A delivery is known by its message id and a hash of its exchange,
// routing key, body and headers (x-delivery-count aside, which a quorum
// queue raises on every delivery): a message replayed from the DLQ or
// coming back from a wait queue carries other headers, so it is a new
// delivery to the memo. Messages without an id are not remembered. The
// memo is bounded (oldest forgotten first) and lives in one consumer: a
// redelivery that reaches another process, or this one after a restart,
// is settled again (a duplicate copy, never a loss).
//
// A copy whose own confirm was lost with its channel may or may not have
// arrived. Its message is requeued, and the memo keeps the copy: the
// redelivery sends that same copy again (its headers, reason and failure
// time unchanged) instead of running the handler again, so the message's
// fate is decided once; if the first did arrive, the DLQ holds two
// identical copies (they differ only in x-warren-publish-seq), never two
// different settlements.
type copyMemo struct {
	mu      sync.Mutex
	max     int
	known   map[copyKey]struct{}
	order   []copyKey
	pending map[copyKey]*warren.Publishing // copies whose confirm was lost
	porder  []copyKey
}

type copyKey struct {
	id  string
	sum uint64
}

func newCopyMemo(max int) *copyMemo {
	return &copyMemo{max: max, known: make(map[copyKey]struct{}), pending: make(map[copyKey]*warren.Publishing)}
}

// lost records that the confirm of m's copy pub was lost with its channel.
func (c *copyMemo) lost(m *warren.Message, pub *warren.Publishing) {
	k, ok := copyKeyOf(m)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.pending[k]; !dup {
		if len(c.porder) >= c.max {
			delete(c.pending, c.porder[0])
			c.porder = c.porder[1:]
		}
		c.porder = append(c.porder, k)
	}
	c.pending[k] = pub
}

// pendingCopy returns the copy whose confirm was lost, if m is a
// redelivery of its message.
func (c *copyMemo) pendingCopy(m *warren.Message) (*warren.Publishing, bool) {
	if !m.Redelivered {
		return nil, false
	}
	k, ok := copyKeyOf(m)
	if !ok {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pub, found := c.pending[k]
	return pub, found
}

// remember records that m's settlement copy was confirmed.
func (c *copyMemo) remember(m *warren.Message) {
	k, ok := copyKeyOf(m)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.known[k]; dup {
		return
	}
	if len(c.order) >= c.max {
		delete(c.known, c.order[0])
		c.order = c.order[1:]
	}
	c.order = append(c.order, k)
	c.known[k] = struct{}{}
	delete(c.pending, k) // its porder entry ages out
}

// settled reports whether m is a redelivery of a message whose settlement
// copy was confirmed: the copy exists, so the delivery only needs its ack.
func (c *copyMemo) settled(m *warren.Message) bool {
	if !m.Redelivered {
		return false
	}
	k, ok := copyKeyOf(m)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, known := c.known[k]
	return known
}

// copyKeyOf identifies a delivery for the memo.
func copyKeyOf(m *warren.Message) (copyKey, bool) {
	if m.MessageID == "" {
		return copyKey{}, false
	}
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%s\x00%s\x00%d\x00", m.Exchange, m.RoutingKey, len(m.Body))
	_, _ = h.Write(m.Body)
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		if name != "x-delivery-count" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		_, _ = fmt.Fprintf(h, "\x00%s=%v", name, m.Headers[name])
	}
	return copyKey{id: m.MessageID, sum: h.Sum64()}, true
}

// copyMemoSize bounds a consumer's copyMemo. The redeliveries it is for
// come right after a lost channel, and are at most the deliveries that were
// in flight then (the prefetch, 65,535 at most); 16,384 entries cost about
// 1 MiB.
const copyMemoSize = 16384
