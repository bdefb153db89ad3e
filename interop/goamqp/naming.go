package goamqp

// EventExchange is goamqp's default event stream exchange.
const EventExchange = "events.topic.exchange"

// QueueExpires is the x-expires goamqp declares on its durable queues:
// 5 days in milliseconds, as a Go int (encoded as a signed 32-bit integer).
const QueueExpires int = 432000000

// HeaderService is the header goamqp writes on every publish.
const HeaderService = "service"

// EventQueue is service's queue on exchange.
func EventQueue(exchange, service string) string { return exchange + ".queue." + service }

// RequestExchange is service's request exchange (direct).
func RequestExchange(service string) string { return service + ".direct.exchange.request" }

// RequestQueue is service's request queue.
func RequestQueue(service string) string { return RequestExchange(service) + ".queue" }

// ResponseExchange is service's response exchange (headers).
func ResponseExchange(service string) string { return service + ".headers.exchange.response" }

// ResponseQueue is where caller receives target's answers.
func ResponseQueue(target, caller string) string {
	return ResponseExchange(target) + ".queue." + caller
}
