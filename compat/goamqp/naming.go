package goamqp

import (
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// HeaderService is the header goamqp writes on everything it publishes: the
// publishing service's name. A goamqp service addresses its answer to a
// request by it.
const HeaderService = "service"

// HeaderRoutingKey is the entry goamqp adds to a handler's Headers: the
// delivery's routing key. Handler adds it too.
const HeaderRoutingKey = "routing-key"

// QueueExpires is the x-expires argument, in milliseconds (5 days), that
// goamqp declares on every durable queue it creates.
const QueueExpires = 432000000

// ResponseExchange is the headers exchange on which service answers
// goamqp-style requests: <service>.headers.exchange.response.
func ResponseExchange(service string) string {
	return service + ".headers.exchange.response"
}

// ResponseQueue is the queue on which caller receives target's answers the
// goamqp way: <target>.headers.exchange.response.queue.<caller>.
func ResponseQueue(target, caller string) string {
	return ResponseExchange(target) + ".queue." + caller
}

// ResponseTopology is what a service that answers goamqp callers declares
// once at start (Client.Declare): its response exchange, a durable headers
// exchange as goamqp declares it.
func ResponseTopology(service string) warren.Topology {
	return warren.Topology{Exchanges: []warren.Exchange{{
		Name: ResponseExchange(service), Kind: warren.KindHeaders, Durable: true,
	}}}
}

// EventStream is rabbitmq.EventStream with the queue shaped as goamqp
// declares it: durable, classic, x-expires of QueueExpires. Consume it with
// rabbitmq.WithoutDeadLetterExchange, so that warren and goamqp replicas of
// one service can both declare the queue, in any order, during a rolling
// deploy and a rollback (docs/MIGRATING.md).
func EventStream(service string) rabbitmq.Spec {
	return shaped(rabbitmq.EventStream(service))
}

// Requests is rabbitmq.Requests with the queue shaped as goamqp declares
// it; see EventStream.
func Requests(service string) rabbitmq.Spec {
	return shaped(rabbitmq.Requests(service))
}

func shaped(s rabbitmq.Spec) rabbitmq.Spec {
	s.Queue.Args = amqp.Table{"x-expires": int32(QueueExpires)}
	return s
}
