package partition

import (
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// Layout describes one partitioned service queue: which exchange feeds it
// and with which patterns, how many partitions it has, and what the hash
// exchange hashes.
type Layout struct {
	// Exchange is the topic exchange the service's routes bind to
	// (declared with the layout, like a consumer declares its exchange).
	Exchange warren.Exchange
	// Queue is the service queue the partitions are named after; its Name is
	// the base, its Type, Durable and Args are every partition queue's.
	Queue warren.Queue
	// Partitions is N, the number of partition queues (at least 1).
	Partitions int
	// Hash is what the hash exchange hashes (RoutingKey by default).
	Hash Hash
}

// Stream is the layout of service's queue on the custom stream name
// (<name>.topic.exchange and <name>.topic.exchange.queue.<service>, as
// rabbitmq.Stream names them) split into n partitions, hashing the routing
// key.
func Stream(name, service string, n int) Layout {
	ex := warren.StreamExchange(name)
	return Layout{
		Exchange:   warren.Exchange{Name: ex, Kind: warren.KindTopic, Durable: true},
		Queue:      warren.Queue{Name: warren.ServiceQueue(ex, service), Durable: true},
		Partitions: n,
	}
}

// HashExchange returns the consistent-hash exchange of a partitioned
// queue: "<queue>.hash.exchange".
func HashExchange(queue string) string { return queue + ".hash.exchange" }

// Queue returns the name of partition i of queue: "<queue>.p<i>".
func Queue(queue string, i int) string { return queue + ".p" + strconv.Itoa(i) }

// Weight is the binding key of every partition on the hash exchange: equal
// weights, so each partition owns an equal share of the hash ring.
const Weight = "1"

// Validate reports what makes l unusable.
func (l Layout) Validate() error {
	switch {
	case l.Queue.Name == "":
		return fmt.Errorf("warren/partition: the layout needs a queue name")
	case l.Partitions < 1:
		return fmt.Errorf("warren/partition: %d partitions: need at least 1", l.Partitions)
	case l.Queue.Exclusive || l.Queue.AutoDelete:
		return fmt.Errorf("warren/partition: partition queues are shared by the fleet: not exclusive, not auto-delete")
	}
	return l.Hash.validate()
}

// QueueNames returns the partition queue names, partition 0 first.
func (l Layout) QueueNames() []string {
	out := make([]string, l.Partitions)
	for i := range out {
		out[i] = Queue(l.Queue.Name, i)
	}
	return out
}

// PartitionQueue returns partition i's work queue as a consumer declares
// it: the layout's queue renamed, with x-single-active-consumer set.
func (l Layout) PartitionQueue(i int) warren.Queue {
	q := l.Queue
	q.Name = Queue(l.Queue.Name, i)
	args := amqp.Table{}
	for k, v := range l.Queue.Args {
		args[k] = v
	}
	args["x-single-active-consumer"] = true
	q.Args = args
	return q
}

// Roster returns the name of a layout's roster queue: "<queue>.fleet".
func Roster(queue string) string { return queue + ".fleet" }

// RosterQueue returns the queue every instance of the fleet holds one
// consumer on, so that its consumer count is the size of the fleet. The
// partition queues cannot say it: a quorum queue with single active
// consumer counts only its active consumer. Nothing is bound to the
// roster; a message published to it by name is dead-lettered to
// partition 0's DLQ (the consumer rejects it), so it is never lost.
func (l Layout) RosterQueue() warren.Queue {
	p0 := Queue(l.Queue.Name, 0)
	args := amqp.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": warren.DeadLetterQueue(p0)}
	if l.Queue.Type == warren.Quorum {
		args["x-queue-type"] = string(warren.Quorum)
		args["x-dead-letter-strategy"] = "at-least-once"
		args["x-overflow"] = "reject-publish"
	}
	return warren.Queue{Name: Roster(l.Queue.Name), Type: l.Queue.Type, Durable: l.Queue.Durable, Args: args}
}

// Topology returns everything the layout needs on the broker: the topic
// exchange, the hash exchange, one exchange binding from the topic
// exchange to the hash exchange per pattern, and per partition its queue
// (single active consumer), DLQ, wait queues (one per retry delay) and its
// weighted binding on the hash exchange; last the roster queue.
func (l Layout) Topology(patterns []string, retryDelays []time.Duration) (warren.Topology, error) {
	if err := l.Validate(); err != nil {
		return warren.Topology{}, err
	}
	var t warren.Topology
	hash := HashExchange(l.Queue.Name)
	if l.Exchange.Name != "" {
		ex := l.Exchange
		if ex.Kind == "" {
			ex.Kind = warren.KindTopic
		}
		t.Exchanges = append(t.Exchanges, ex)
		for _, p := range patterns {
			if _, err := warren.ParsePattern(p); err != nil {
				return warren.Topology{}, err
			}
			t.ExchangeBindings = append(t.ExchangeBindings, warren.ExchangeBinding{Source: ex.Name, Destination: hash, Key: p})
		}
	}
	t.Exchanges = append(t.Exchanges, warren.Exchange{
		Name: hash, Kind: warren.KindConsistentHash, Durable: l.Queue.Durable, Args: l.Hash.exchangeArgs(),
	})
	for i := 0; i < l.Partitions; i++ {
		pt, err := warren.ConsumerTopology(warren.Exchange{}, l.PartitionQueue(i), nil, retryDelays)
		if err != nil {
			return warren.Topology{}, err
		}
		t.Queues = append(t.Queues, pt.Queues...)
		t.Bindings = append(t.Bindings, warren.Binding{Exchange: hash, Queue: Queue(l.Queue.Name, i), Key: Weight})
	}
	t.Queues = append(t.Queues, l.RosterQueue())
	return t, nil
}
