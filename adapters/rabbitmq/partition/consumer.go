package partition

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	part "github.com/warren-mq/warren/partition"
)

// Consumer consumes every partition of a layout as one of each partition's
// single active consumers: one rabbitmq.Consumer per partition queue, one
// lane each (see Lanes), on the client's consuming connection.
type Consumer struct {
	client     *rabbitmq.Client
	layout     part.Layout
	topology   warren.Topology
	cfg        *config
	index      map[string]int // partition queue -> i
	inner      *warren.Router
	mu         sync.Mutex
	consumers  []*rabbitmq.Consumer // the current consumer of each partition
	releasing  []atomic.Bool        // partition i's consumer is being shut down to hand it over
	active     []atomic.Bool        // a delivery from partition i arrived since the connection came up
	claimed    []atomic.Bool        // active, or subscribed first (so likely active): what the rebalancer hands over
	busy       []atomic.Int32       // handlers of partition i running
	lastSeen   []atomic.Int64       // unix nanos of partition i's last handler start or end
	down       atomic.Bool          // the consuming connection is lost: fence handlers
	redeclared atomic.Int64         // layout declarations by watch
}

// New declares l's topology for router's patterns (topic exchange, hash
// exchange, one exchange binding per pattern, the partition queues with
// their DLQs and wait queues) and returns a consumer of every partition.
// A broker without the consistent-hash exchange type is ErrNoHashExchange.
//
// The exchanges go first, then each partition's rabbitmq.Consumer declares
// its own queues (so a quorum partition gets the arguments the transport
// gives quorum queues), then the hash exchange's bindings to the
// partitions and the exchange-to-exchange bindings. Run declares all of it
// again each time the consuming connection comes back.
func New(ctx context.Context, client *rabbitmq.Client, router *warren.Router, l part.Layout, opts ...Option) (*Consumer, error) {
	cfg := &config{prefetch: DefaultPrefetch, lanes: 1, rebalance: DefaultRebalance}
	for _, o := range opts {
		o.apply(cfg)
	}
	layout, err := l.Topology(router.Routes(), cfg.waitDelays())
	if err != nil {
		return nil, err
	}
	roster := l.RosterQueue()
	if err := declare(ctx, client, warren.Topology{Exchanges: layout.Exchanges, Queues: []warren.Queue{roster}}); err != nil {
		return nil, err
	}
	c := &Consumer{client: client, layout: l, cfg: cfg, index: map[string]int{},
		active: make([]atomic.Bool, l.Partitions), releasing: make([]atomic.Bool, l.Partitions),
		claimed: make([]atomic.Bool, l.Partitions), busy: make([]atomic.Int32, l.Partitions),
		lastSeen: make([]atomic.Int64, l.Partitions)}
	c.inner = c.innerRouter(router)
	c.topology = warren.Topology{Exchanges: layout.Exchanges, Queues: []warren.Queue{roster},
		Bindings: layout.Bindings, ExchangeBindings: layout.ExchangeBindings}
	for i := 0; i < l.Partitions; i++ {
		c.index[part.Queue(l.Queue.Name, i)] = i
		cons, err := c.newPartitionConsumer(ctx, i)
		if err != nil {
			return nil, err
		}
		c.consumers = append(c.consumers, cons)
		c.topology.Queues = append(c.topology.Queues, cons.Topology().Queues...)
	}
	if err := declare(ctx, client, warren.Topology{Bindings: c.topology.Bindings, ExchangeBindings: c.topology.ExchangeBindings}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Consumer) newPartitionConsumer(ctx context.Context, i int) (*rabbitmq.Consumer, error) {
	cfg := c.cfg
	// A graceful stop keeps the partition until the channel closes, so the
	// standby starts at the first unsettled message (WithReleaseOnShutdown).
	copts := []rabbitmq.ConsumerOption{rabbitmq.WithWorkers(cfg.lanes), rabbitmq.WithPrefetch(cfg.prefetch), rabbitmq.WithReleaseOnShutdown()}
	if cfg.lanes > 1 {
		copts = append(copts, rabbitmq.WithOrderBy(cfg.laneKey))
	}
	if cfg.delayed != nil {
		copts = append(copts, rabbitmq.WithRetry(*cfg.delayed))
	}
	copts = append(copts, cfg.extra...)
	return c.client.NewConsumer(ctx, c.inner, rabbitmq.Spec{Queue: c.layout.PartitionQueue(i)}, copts...)
}

func (cfg *config) waitDelays() []time.Duration {
	if cfg.delayed == nil {
		return nil
	}
	return cfg.delayed.WaitDelays()
}

// innerRouter mirrors router's routes (same patterns, so the same route
// names in events and metrics) with the activity mark in front, and hands
// every message to router itself.
func (c *Consumer) innerRouter(router *warren.Router) *warren.Router {
	r := warren.NewRouter()
	r.Use(c.mark)
	for _, p := range router.Routes() {
		r.Handle(p, router)
	}
	r.NotFound(router)
	return r
}

// errFenced refuses a delivery that arrived before the consuming
// connection was lost: its channel is dead, the broker has given it to
// the partition's next consumer, and handling it here could overtake.
var errFenced = errors.New("warren/rabbitmq/partition: connection lost; the broker redelivers this message")

func (c *Consumer) mark(next warren.Handler) warren.Handler {
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		if c.down.Load() {
			return warren.Requeue(errFenced) // on a dead channel: dropped, redelivered by the broker
		}
		i, ok := c.index[msg.Queue]
		if !ok {
			return next.ServeMessage(ctx, msg)
		}
		probe := isProbe(msg)
		c.claimed[i].Store(true)
		if !c.active[i].Swap(true) && c.cfg.onActivity != nil {
			c.cfg.onActivity(ActivityEvent{Queue: msg.Queue, Partition: i, Active: true})
		}
		if probe {
			return nil // told us we are active; nothing to handle
		}
		c.busy[i].Add(1)
		c.lastSeen[i].Store(time.Now().UnixNano())
		defer func() {
			c.lastSeen[i].Store(time.Now().UnixNano())
			c.busy[i].Add(-1)
		}()
		return next.ServeMessage(ctx, msg)
	})
}

// lost marks every partition inactive.
func (c *Consumer) lost() {
	for i := range c.active {
		c.claimed[i].Store(false)
		if c.active[i].Swap(false) && c.cfg.onActivity != nil {
			c.cfg.onActivity(ActivityEvent{Queue: part.Queue(c.layout.Queue.Name, i), Partition: i, Active: false})
		}
	}
}

// Active returns the partitions this instance is active on, in order.
func (c *Consumer) Active() []int {
	var out []int
	for i := range c.active {
		if c.active[i].Load() {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

// IsActive reports whether the instance is active on partition i; with
// prometheus.NewGaugeFunc it makes a per-partition gauge (the label set is
// bounded by N).
func (c *Consumer) IsActive(i int) bool { return i >= 0 && i < len(c.active) && c.active[i].Load() }

// Topology returns what the consumer declared.
func (c *Consumer) Topology() warren.Topology { return c.topology }

// Layout returns the consumer's layout.
func (c *Consumer) Layout() part.Layout { return c.layout }

// Run consumes every partition until ctx is cancelled (then shuts down
// gracefully, see rabbitmq.Consumer.Run) or one partition's consumer
// fails, which stops the others and returns its error.
func (c *Consumer) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(c.consumers))
	wg.Add(1)
	go func() { defer wg.Done(); c.watch(ctx) }()
	if c.cfg.rebalance > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); c.rebalanceLoop(ctx) }()
	}
	for i := range c.consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = c.runPartition(ctx, i); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	c.lost()
	return errors.Join(errs...)
}

// watch holds a channel on the consuming connection: when it closes, the
// connection is lost (or the client closed), so every partition goes
// inactive and handlers are fenced until a channel opens again. Each time
// one opens, on a connection that may be new, it joins the fleet (join).
func (c *Consumer) watch(ctx context.Context) {
	for ctx.Err() == nil {
		ch, err := c.client.Channel(ctx)
		if err != nil {
			return // ctx done or client closed; Run is ending
		}
		c.down.Store(false)
		closed := ch.NotifyClose(make(chan *amqp.Error, 1))
		var (
			retry  <-chan time.Time
			roster *rosterSub
		)
		rejoin := func() {
			retry = nil
			var err error
			if roster, err = c.join(ctx); err != nil {
				retry = time.After(redeclareInterval)
			}
		}
		rejoin()
	up:
		for {
			var rosterGone <-chan *amqp.Error
			var deliveries <-chan amqp.Delivery
			if roster != nil {
				rosterGone, deliveries = roster.closed, roster.deliveries
			}
			select {
			case <-closed:
				c.down.Store(true)
				c.lost()
				break up
			case <-retry:
				rejoin()
			case <-rosterGone:
				roster = nil
				retry = time.After(redeclareInterval)
			case d, ok := <-deliveries:
				if ok {
					_ = d.Nack(false, false) // to partition 0's DLQ: see partition.Layout.RosterQueue
				}
			case <-ctx.Done():
				if roster != nil {
					_ = roster.ch.Close()
				}
				_ = ch.Close()
				return
			}
		}
		if roster != nil {
			_ = roster.ch.Close()
		}
	}
}

// rosterSub is an instance's subscription to the layout's roster queue.
type rosterSub struct {
	ch         *amqp.Channel
	deliveries <-chan amqp.Delivery
	closed     chan *amqp.Error
}

// join declares the whole layout (the partition consumers re-declare only
// their own queues, so the hash exchange, its bindings and the
// exchange-to-exchange bindings would otherwise stay lost if they went
// with the broker's state) and subscribes to the roster queue, so that the
// fleet counts this instance.
func (c *Consumer) join(ctx context.Context) (*rosterSub, error) {
	if err := c.redeclare(ctx); err != nil {
		return nil, err
	}
	ch, err := c.client.Channel(ctx)
	if err != nil {
		return nil, err
	}
	r := &rosterSub{ch: ch, closed: ch.NotifyClose(make(chan *amqp.Error, 1))}
	if err := ch.Qos(1, 0, false); err != nil {
		_ = ch.Close()
		return nil, err
	}
	if r.deliveries, err = ch.Consume(part.Roster(c.layout.Queue.Name), "", false, false, false, false, nil); err != nil {
		_ = ch.Close()
		return nil, err
	}
	return r, nil
}

// redeclareInterval paces the watch's retries of a declaration that failed.
const redeclareInterval = time.Second

// redeclare declares the whole layout: exchanges, the roster and the
// partition queues, the hash exchange's bindings and the
// exchange-to-exchange bindings, and counts it.
func (c *Consumer) redeclare(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := declare(dctx, c.client, c.topology)
	if err == nil {
		c.redeclared.Add(1)
	}
	return err
}
