// Package partition describes partitioned consumption as data: a stream
// spread over N partition queues so that a fleet of instances shares it
// while every partition, and so every partition key, is handled in order.
//
// The shape on the broker, for a service queue Q fed by a topic exchange:
//
//	<stream>.topic.exchange --(exchange.bind, one per route pattern)--> Q.hash.exchange (x-consistent-hash)
//	Q.hash.exchange --(binding key "1": the weight)--> Q.p0 ... Q.p<N-1>
//	Q.p<i>: x-single-active-consumer, its own Q.p<i>.dlq and Q.p<i>.retry.<delay>
//
// Names follow the house convention (the DLQ and wait queues of a queue
// are "<queue>.dlq" and "<queue>.retry.<d>"), so a partition queue is a
// work queue like any other and the CLI's DLQ tools work on it. The hash
// exchange is "<queue>.hash.exchange", in the "<kind>.exchange" style of
// the stream and request exchanges.
//
// The hash input is the routing key by default (the plugin hashes it); a
// Layout can hash a header (HashHeader, with the publisher setting it from
// the message through a Key) or a message property (HashProperty). The
// consumer lives in adapters/rabbitmq/partition.
package partition
