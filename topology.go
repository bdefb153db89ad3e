package warren

import (
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Naming conventions shared with the services already on the broker.
const (
	// EventExchange is the event stream's exchange.
	EventExchange = "events.topic.exchange"
	// DirectReplyTo is RabbitMQ's pseudo-queue for direct reply-to.
	DirectReplyTo = "amq.rabbitmq.reply-to"
)

// StreamExchange returns the topic exchange of a named event stream:
// "<name>.topic.exchange". StreamExchange("events") is EventExchange.
func StreamExchange(name string) string { return name + ".topic.exchange" }

// ServiceQueue returns a service's queue on an exchange:
// "<exchange>.queue.<service>".
func ServiceQueue(exchange, service string) string { return exchange + ".queue." + service }

// RequestExchange returns the exchange a service takes commands and queries
// on: "<service>.direct.exchange.request".
func RequestExchange(service string) string { return service + ".direct.exchange.request" }

// RequestQueue returns the queue a service takes commands and queries from:
// "<service>.direct.exchange.request.queue".
func RequestQueue(service string) string { return RequestExchange(service) + ".queue" }

// DeadLetterQueue returns the dead-letter queue of queue: "<queue>.dlq".
func DeadLetterQueue(queue string) string { return queue + ".dlq" }

// WaitQueue returns the delayed-retry wait queue of queue for delay d:
// "<queue>.retry.<d>", with d as FormatDelay writes it
// ("orders.retry.200ms", "orders.retry.1m30s").
func WaitQueue(queue string, d time.Duration) string { return queue + waitQueueInfix + FormatDelay(d) }

// waitQueueInfix joins a queue's name and a delay in its wait queue's name.
const waitQueueInfix = ".retry."

// FormatDelay renders a retry delay compactly and without dots, as wait
// queue names carry it: whole seconds as hours, minutes and seconds with
// the zero parts left out ("5s", "1m", "1h30m", "2h5s"), anything finer as
// a count of its largest whole unit ("200ms", "1500ms", "250us", "7ns").
func FormatDelay(d time.Duration) string {
	if d <= 0 {
		return d.String()
	}
	if d%time.Second != 0 {
		for _, u := range []struct {
			unit time.Duration
			name string
		}{{time.Millisecond, "ms"}, {time.Microsecond, "us"}, {1, "ns"}} {
			if d%u.unit == 0 {
				return strconv.FormatInt(int64(d/u.unit), 10) + u.name
			}
		}
	}
	var out string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			out += strconv.FormatInt(int64(n), 10) + u.name
			d -= n * u.unit
		}
	}
	return out
}

// Exchange kinds.
const (
	KindTopic   = amqp.ExchangeTopic
	KindDirect  = amqp.ExchangeDirect
	KindFanout  = amqp.ExchangeFanout
	KindHeaders = amqp.ExchangeHeaders
	// KindConsistentHash is the exchange of the rabbitmq_consistent_hash_exchange
	// plugin: it routes each message to one bound queue, chosen by a hash of
	// its routing key (or of the header or property its hash-header /
	// hash-property argument names); a binding's key is the queue's weight.
	KindConsistentHash = "x-consistent-hash"
)

// QueueType is the x-queue-type of a queue.
type QueueType string

// Queue types.
const (
	Classic QueueType = "classic"
	Quorum  QueueType = "quorum"
)

// Exchange describes an exchange to declare.
type Exchange struct {
	Name       string     `json:"name"`
	Kind       string     `json:"kind,omitempty"` // KindTopic by default
	Durable    bool       `json:"durable"`
	AutoDelete bool       `json:"autoDelete,omitempty"`
	Args       amqp.Table `json:"args,omitempty"`
}

// Queue describes a queue to declare.
type Queue struct {
	Name       string     `json:"name"`
	Type       QueueType  `json:"type,omitempty"` // Classic by default
	Durable    bool       `json:"durable"`
	Exclusive  bool       `json:"exclusive,omitempty"`
	AutoDelete bool       `json:"autoDelete,omitempty"`
	Args       amqp.Table `json:"args,omitempty"`
	// Passive: the queue belongs to someone else (another library or an
	// operator declared it) and is adopted as it is. Declaring it only
	// checks that it exists (queue.declare passive): a missing queue is
	// an error, and its arguments are whatever it has, so warren cannot
	// count on a dead-letter exchange on it.
	Passive bool `json:"passive,omitempty"`
}

// Binding binds Queue to Exchange with Key.
type Binding struct {
	Exchange string     `json:"exchange"`
	Queue    string     `json:"queue"`
	Key      string     `json:"key"`
	Args     amqp.Table `json:"args,omitempty"`
}

// ExchangeBinding binds exchange Destination to exchange Source with Key
// (exchange.bind): what Source routes with Key is routed on by Destination.
type ExchangeBinding struct {
	Source      string     `json:"source"`
	Destination string     `json:"destination"`
	Key         string     `json:"key"`
	Args        amqp.Table `json:"args,omitempty"`
}

// Topology is what a consumer needs on the broker, as data: its exchange,
// its work queue and their bindings, the dead-letter queue, and the wait
// queues of delayed retry. Declaring is the transport's job; Topology only
// describes. ExchangeBindings (exchange to exchange) are declared after
// the queue bindings; partitioned consumers use them.
type Topology struct {
	Exchanges        []Exchange        `json:"exchanges"`
	Queues           []Queue           `json:"queues"`
	Bindings         []Binding         `json:"bindings"`
	ExchangeBindings []ExchangeBinding `json:"exchangeBindings,omitempty"`
}

// ConsumerTopology is the standard shape of a consumer: a durable exchange
// of the given kind (no exchange when exchange.Name is ""), a work queue
// bound to it with one binding per pattern, its dead-letter queue
// "<queue>.dlq" (the work queue's x-dead-letter-exchange routes every
// nack(requeue=false) there), and one wait queue per retry delay, each of
// which dead-letters back to the work queue when its TTL expires.
//
// For a direct exchange the patterns must be plain keys; for a fanout one
// queue binding with an empty key is made whatever the patterns.
func ConsumerTopology(exchange Exchange, queue Queue, patterns []string, retryDelays []time.Duration) (Topology, error) {
	if queue.Name == "" {
		return Topology{}, fmt.Errorf("warren: topology: the work queue needs a name")
	}
	var t Topology
	if exchange.Name != "" {
		if exchange.Kind == "" {
			exchange.Kind = KindTopic
		}
		t.Exchanges = append(t.Exchanges, exchange)
		keys, err := bindingKeys(exchange, patterns)
		if err != nil {
			return Topology{}, err
		}
		for _, k := range keys {
			t.Bindings = append(t.Bindings, Binding{Exchange: exchange.Name, Queue: queue.Name, Key: k})
		}
	}
	dlq := DeadLetterQueue(queue.Name)
	work := queue
	if !work.Passive { // an adopted queue keeps the arguments it has
		work.Args = withArgs(queue.Args, amqp.Table{
			"x-dead-letter-exchange":    "",
			"x-dead-letter-routing-key": dlq,
		})
		if work.Type != "" && work.Type != Classic {
			work.Args["x-queue-type"] = string(work.Type)
		}
	}
	t.Queues = append(t.Queues, work)
	t.Queues = append(t.Queues, Queue{Name: dlq, Type: queue.Type, Durable: queue.Durable, Args: typeArgs(queue.Type)})
	for _, d := range retryDelays {
		if d <= 0 {
			return Topology{}, fmt.Errorf("warren: topology: retry delay %v is not positive", d)
		}
		args := typeArgs(queue.Type)
		args["x-message-ttl"] = d.Milliseconds()
		args["x-dead-letter-exchange"] = ""
		args["x-dead-letter-routing-key"] = queue.Name
		t.Queues = append(t.Queues, Queue{Name: WaitQueue(queue.Name, d), Type: queue.Type, Durable: queue.Durable, Args: args})
	}
	return t, nil
}

func bindingKeys(ex Exchange, patterns []string) ([]string, error) {
	switch ex.Kind {
	case KindFanout:
		return []string{""}, nil
	case KindDirect:
		for _, p := range patterns {
			pat, err := ParsePattern(p)
			if err != nil {
				return nil, err
			}
			for _, w := range pat.Words() {
				if w == "*" || w == "#" {
					return nil, fmt.Errorf("warren: topology: pattern %q has wildcards but exchange %q is direct", p, ex.Name)
				}
			}
		}
		return patterns, nil
	default:
		return patterns, nil
	}
}

func typeArgs(t QueueType) amqp.Table {
	args := amqp.Table{}
	if t != "" && t != Classic {
		args["x-queue-type"] = string(t)
	}
	return args
}

func withArgs(base, extra amqp.Table) amqp.Table {
	out := amqp.Table{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		if _, set := out[k]; !set {
			out[k] = v
		}
	}
	return out
}
