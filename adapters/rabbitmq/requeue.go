package rabbitmq

import (
	"sync"

	"github.com/warren-mq/warren"
)

// requeueCounter counts warren.Requeue results per message id, so a message
// that keeps asking to be requeued is dead-lettered instead of looping.
// Classic queues keep no delivery count, so the count lives here, bounded
// to the most recent ids (oldest forgotten first). A quorum queue's
// x-delivery-count is used there, because on a quorum queue the broker
// writes it; on any other queue the header is a publisher's and is ignored
// (a publisher writing 0 in every message would requeue it for ever).
type requeueCounter struct {
	quorum bool
	mu     sync.Mutex
	max    int
	count  map[string]int
	order  []string
}

func newRequeueCounter(max int, quorum bool) *requeueCounter {
	return &requeueCounter{quorum: quorum, max: max, count: make(map[string]int)}
}

// exceeded records one more requeue of m and reports whether that would
// pass limit. A message without an id cannot be counted across deliveries:
// a redelivered one counts as over the limit.
func (r *requeueCounter) exceeded(m *warren.Message, limit int) bool {
	if n, ok := deliveryCount(m); ok && r.quorum {
		return n >= int64(limit)
	}
	if m.MessageID == "" {
		return m.Redelivered
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, seen := r.count[m.MessageID]
	if !seen {
		if len(r.order) >= r.max {
			delete(r.count, r.order[0])
			r.order = r.order[1:]
		}
		r.order = append(r.order, m.MessageID)
	}
	n++
	r.count[m.MessageID] = n
	if n > limit {
		delete(r.count, m.MessageID)
		return true
	}
	return false
}

func deliveryCount(m *warren.Message) (int64, bool) {
	switch v := m.Headers["x-delivery-count"].(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int:
		return int64(v), true
	default:
		return 0, false
	}
}
