package partition

import (
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/retry"
)

// Option configures a Consumer.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	prefetch   int
	lanes      int
	laneKey    func(*warren.Message) string
	delayed    *retry.Policy
	onActivity func(ActivityEvent)
	rebalance  time.Duration
	extra      []rabbitmq.ConsumerOption
}

// DefaultPrefetch is each partition's basic.qos.
const DefaultPrefetch = 64

// Prefetch sets each partition's basic.qos (default DefaultPrefetch).
func Prefetch(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.prefetch = n
		}
	})
}

// Lanes handles up to n messages of one partition at once, keeping order
// per key (key of the message, e.g. the header a partition.Key writes)
// rather than per partition. The default is one lane: the whole partition
// in order.
func Lanes(n int, key func(*warren.Message) string) Option {
	return optionFunc(func(c *config) {
		if n > 0 && key != nil {
			c.lanes, c.laneKey = n, key
		}
	})
}

// DelayedRetry retries failed messages through the partition's wait
// queues (see rabbitmq.Retry): the partition goes on while a message
// waits, so later messages overtake it and per-key order is NOT kept for
// a retried message. Without it, retry in place (retry.Backoff in the
// router) holds the partition and keeps order.
func DelayedRetry(p retry.Policy) Option {
	return optionFunc(func(c *config) { c.delayed = &p })
}

// OnActivity calls fn when the instance becomes active on a partition or
// stops being active (see the package doc for how it is detected). fn runs
// on the consume path: keep it fast.
func OnActivity(fn func(ActivityEvent)) Option {
	return optionFunc(func(c *config) { c.onActivity = fn })
}

// ConsumerOptions passes options to every partition's rabbitmq.Consumer
// (RequeueLimit, ShutdownTimeout, ...). Workers, OrderBy, Prefetch and
// Retry are set by this package; passing them here overrides its choice
// and can break the order it promises.
func ConsumerOptions(opts ...rabbitmq.ConsumerOption) Option {
	return optionFunc(func(c *config) { c.extra = append(c.extra, opts...) })
}

// ActivityEvent reports that an instance became active on a partition, or
// stopped being active.
type ActivityEvent struct {
	Queue     string // the partition queue
	Partition int
	Active    bool
}

// DefaultRebalance is how often an instance checks that it holds no more
// than its share of the partitions.
const DefaultRebalance = 5 * time.Second

// Rebalance sets how often the instance compares the partitions it is
// active on with its share (ceil(N / instances)) and hands one over when
// it holds more (default DefaultRebalance; 0 turns it off, leaving every
// partition with the instance that subscribed first).
func Rebalance(d time.Duration) Option {
	return optionFunc(func(c *config) { c.rebalance = d })
}
