package rabbitmq

import (
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// feed is one subscription's deliveries, offered to the workers: without
// OrderBy each idle worker receives the next delivery from the library's
// channel itself and handles it, so a message reaches its handler without
// a hand-off between goroutines (one owner receives, runs and settles it).
//
// Feeds form a chain, one per subscription, in the order the consumer
// offered them; every worker goes through each in turn. A worker leaves a
// feed when its deliveries end or it is withdrawn, after the handler it is
// running returns, and then waits for the next one.
type feed struct {
	deliveries <-chan amqp.Delivery
	ch         *consumeChannel

	ended     chan struct{} // closed by the first worker that finds deliveries closed
	endOnce   sync.Once
	withdrawn chan struct{} // closed when the consumer stops offering it
	drawOnce  sync.Once
	left      sync.WaitGroup // workers that have not left it yet

	replaced chan struct{} // closed once next is set
	next     *feed
}

func newFeed(ch *consumeChannel, deliveries <-chan amqp.Delivery, workers int) *feed {
	f := &feed{deliveries: deliveries, ch: ch, ended: make(chan struct{}), withdrawn: make(chan struct{}), replaced: make(chan struct{})}
	f.left.Add(workers)
	return f
}

// end records that the subscription's deliveries are over.
func (f *feed) end() { f.endOnce.Do(func() { close(f.ended) }) }

// withdraw tells the workers to stop receiving from f.
func (f *feed) withdraw() { f.drawOnce.Do(func() { close(f.withdrawn) }) }

// feeds is the chain's tail, which the consumer extends and the workers
// follow.
type feeds struct {
	mu   sync.Mutex
	tail *feed
}

// offer appends a feed for deliveries on ch and returns it.
func (fs *feeds) offer(ch *consumeChannel, deliveries <-chan amqp.Delivery, workers int) *feed {
	f := newFeed(ch, deliveries, workers)
	fs.mu.Lock()
	old := fs.tail
	old.next = f
	fs.tail = f
	fs.mu.Unlock()
	close(old.replaced)
	return f
}

// last returns the newest feed (the first, empty one if none was offered).
func (fs *feeds) last() *feed {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.tail
}
