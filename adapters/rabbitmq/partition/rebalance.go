package partition

import (
	"context"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	part "github.com/warren-mq/warren/partition"
)

// runPartition runs partition i's consumer; when the rebalancer handed the
// partition over (shut the consumer down), it subscribes again, now at the
// back of the partition's single-active-consumer line.
func (c *Consumer) runPartition(ctx context.Context, i int) error {
	for {
		c.mu.Lock()
		cons := c.consumers[i]
		c.mu.Unlock()
		if n, ok := c.consumerCount(ctx, i); ok && n == 0 {
			c.claimed[i].Store(true) // first in line: the broker makes it the active one
		}
		err := cons.Run(ctx)
		if err != nil || ctx.Err() != nil || !c.releasing[i].Load() {
			return err
		}
		next, err := c.newPartitionConsumer(ctx, i)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.consumers[i] = next
		c.mu.Unlock()
		c.releasing[i].Store(false)
	}
}

// rebalanceLoop spreads partitions over the fleet. The broker makes the
// first subscriber of a partition its active consumer, so the instance
// that starts first would hold every partition. Every interval the
// instance counts the fleet (the consumer count of the layout's roster
// queue, see watch) and, while it holds more
// than its share (ceil(N / fleet)), hands over one partition that is idle:
// no handler running and none started or ended for a whole interval. It
// shuts that partition's consumer down (basic.cancel; the broker makes the
// next instance in line active) and subscribes again, at the back of the
// line.
//
// Only idle partitions move: the broker switches the active consumer at
// basic.cancel, while the messages the old one had prefetched are still
// with it (they return to the queue when its channel closes), so handing
// over a busy partition would let the next instance overtake them. Under
// constant traffic an instance keeps what it holds; the fleet spreads when
// it starts before the traffic or in quiet moments.
func (c *Consumer) rebalanceLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.rebalance)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fleet := c.fleetSize(ctx)
		if fleet < 2 {
			continue
		}
		share := (c.layout.Partitions + fleet - 1) / fleet
		var held, idle []int
		for i := range c.claimed {
			if !c.claimed[i].Load() {
				continue
			}
			held = append(held, i)
			if c.busy[i].Load() == 0 && time.Since(time.Unix(0, c.lastSeen[i].Load())) >= c.cfg.rebalance {
				idle = append(idle, i)
			}
		}
		if len(held) > share && len(idle) > 0 {
			c.handOver(ctx, idle[len(idle)-1])
		}
	}
}

// fleetSize returns the consumer count of the layout's roster queue, on
// which every running instance holds one consumer (see watch), 0 when it
// cannot tell.
func (c *Consumer) fleetSize(ctx context.Context) int {
	ch, err := c.client.Channel(ctx)
	if err != nil {
		return 0
	}
	defer func() { _ = ch.Close() }()
	q, err := ch.QueueDeclarePassive(part.Roster(c.layout.Queue.Name), c.layout.Queue.Durable, false, false, false, nil)
	if err != nil {
		return 0
	}
	return q.Consumers
}

// consumerCount returns how many consumers partition i's queue has.
func (c *Consumer) consumerCount(ctx context.Context, i int) (int, bool) {
	ch, err := c.client.Channel(ctx)
	if err != nil {
		return 0, false
	}
	defer func() { _ = ch.Close() }()
	q, err := ch.QueueDeclarePassive(part.Queue(c.layout.Queue.Name, i), c.layout.Queue.Durable, false, false, false, nil)
	if err != nil {
		return 0, false
	}
	return q.Consumers, true
}

func (c *Consumer) handOver(ctx context.Context, i int) {
	c.mu.Lock()
	cons := c.consumers[i]
	c.mu.Unlock()
	c.releasing[i].Store(true)
	sctx, cancel := context.WithTimeout(ctx, rabbitmq.DefaultShutdownTimeout)
	defer cancel()
	_ = cons.Shutdown(sctx)
	c.claimed[i].Store(false)
	c.probe(ctx, i)
	if c.active[i].Swap(false) && c.cfg.onActivity != nil {
		c.cfg.onActivity(ActivityEvent{Queue: part.Queue(c.layout.Queue.Name, i), Partition: i, Active: false})
	}
}

// ProbeHeader marks the probe a handing-over instance sends through the
// partition it released, so the instance the broker made active next
// learns it at once, traffic or not.
const ProbeHeader = "x-warren-partition-probe"

// probe publishes an empty message straight to partition i's queue: the
// next active consumer receives it behind every message already queued,
// counts itself active, and acks it without running a handler.
func (c *Consumer) probe(ctx context.Context, i int) {
	q := part.Queue(c.layout.Queue.Name, i)
	_ = c.client.Publisher().Publish(ctx, &warren.Publishing{Exchange: "", RoutingKey: q,
		Publishing: amqp.Publishing{Headers: amqp.Table{ProbeHeader: q}}})
}

// isProbe reports a probe: published straight to this partition queue,
// with no body and the probe header naming the queue. Only such a message
// is acked unhandled; it carries nothing to lose.
func isProbe(m *warren.Message) bool {
	return m.Exchange == "" && m.RoutingKey == m.Queue && len(m.Body) == 0 && m.Headers[ProbeHeader] == m.Queue
}

// Held returns how many partitions the instance holds: those it is active
// on, plus those it subscribed to first (the broker made it their active
// consumer, though no message has said so yet).
func (c *Consumer) Held() int {
	n := 0
	for i := range c.claimed {
		if c.claimed[i].Load() {
			n++
		}
	}
	return n
}
