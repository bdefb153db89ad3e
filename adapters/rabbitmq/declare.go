package rabbitmq

import (
	"errors"
	"fmt"
	"regexp"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// TopologyError reports a declaration the broker refused, most often
// because an exchange or queue already exists with other arguments
// (PRECONDITION_FAILED). Arg names the differing argument when the broker
// said which.
type TopologyError struct {
	Kind string // "exchange", "queue" or "binding"
	Name string
	Arg  string
	Err  error
}

// Error implements error.
func (e *TopologyError) Error() string {
	if e.Arg != "" {
		return fmt.Sprintf("warren/rabbitmq: declare %s %q: argument %q differs from the existing %s's: %v",
			e.Kind, e.Name, e.Arg, e.Kind, e.Err)
	}
	return fmt.Sprintf("warren/rabbitmq: declare %s %q: %v", e.Kind, e.Name, e.Err)
}

// Unwrap returns the broker's error.
func (e *TopologyError) Unwrap() error { return e.Err }

var inequivalentArg = regexp.MustCompile(`inequivalent arg '([^']+)'`)

func topologyError(kind, name string, err error) error {
	te := &TopologyError{Kind: kind, Name: name, Err: err}
	var ae *amqp.Error
	if errors.As(err, &ae) {
		if m := inequivalentArg.FindStringSubmatch(ae.Reason); m != nil {
			te.Arg = m[1]
		}
	}
	return te
}

// declare declares t on ch: exchanges, queues (a Passive one only checked),
// queue bindings, exchange-to-exchange bindings. On error the broker has
// closed ch.
func declare(ch *amqp.Channel, t warren.Topology) error {
	for _, ex := range t.Exchanges {
		kind := ex.Kind
		if kind == "" {
			kind = warren.KindTopic
		}
		if err := ch.ExchangeDeclare(ex.Name, kind, ex.Durable, ex.AutoDelete, false, false, ex.Args); err != nil {
			return topologyError("exchange", ex.Name, err)
		}
	}
	for _, q := range t.Queues {
		if q.Passive {
			if _, err := ch.QueueDeclarePassive(q.Name, q.Durable, q.AutoDelete, q.Exclusive, false, nil); err != nil {
				return topologyError("queue", q.Name, err)
			}
			continue
		}
		args := q.Args
		if q.Type != "" && q.Type != warren.Classic {
			args = amqp.Table{}
			for k, v := range q.Args {
				args[k] = v
			}
			args["x-queue-type"] = string(q.Type)
		}
		if _, err := ch.QueueDeclare(q.Name, q.Durable, q.AutoDelete, q.Exclusive, false, args); err != nil {
			return topologyError("queue", q.Name, err)
		}
	}
	for _, b := range t.Bindings {
		if err := ch.QueueBind(b.Queue, b.Key, b.Exchange, false, b.Args); err != nil {
			return topologyError("binding", fmt.Sprintf("%s -> %s [%s]", b.Exchange, b.Queue, b.Key), err)
		}
	}
	for _, b := range t.ExchangeBindings {
		if err := ch.ExchangeBind(b.Destination, b.Key, b.Source, false, b.Args); err != nil {
			return topologyError("binding", fmt.Sprintf("%s -> %s [%s]", b.Source, b.Destination, b.Key), err)
		}
	}
	return nil
}
