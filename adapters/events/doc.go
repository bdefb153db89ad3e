// Package events is go-micro's events API on RabbitMQ: a Stream that
// publishes events on topics and consumes them in groups, from now or
// replayed from a point in time, with automatic or manual acknowledgement,
// redelivery and a retry limit that ends in a dead-letter queue; and a
// Store that keeps events per topic with a TTL and reads them back in
// order.
//
// The Stream and Store interfaces, the option structs (PublishOptions,
// ConsumeOptions, ReadOptions, WriteOptions, StoreOptions) and their
// func(*XOptions) option types, Event with SetAckFunc and SetNackFunc,
// DefaultStream and DefaultStore with the package-level Publish, Consume,
// Read and Write have go-micro's names and meaning (v4.11 and v5), so that
// go-micro code compiles against this package with the import path and
// the constructors changed. RabbitStream and RabbitStore implement them.
//
//	stream, err := events.NewStream(client) // client from rabbitmq.Dial
//	err = stream.Publish("orders.placed", order, events.WithMetadata(md))
//	ch, err := stream.Consume("orders.placed", events.WithGroup("billing"),
//		events.WithAutoAck(false, 30*time.Second), events.WithRetryLimit(5))
//	for ev := range ch { ...; ev.Ack() }
//
// # Topology
//
// A stream named N (default "events") publishes to the durable topic
// exchange "N.topic.exchange" with the topic as routing key, so the
// default stream is warren's event stream: routers bound to
// events.topic.exchange see these events, and Consume sees theirs. Each
// topic T has a stream queue (x-queue-type: stream) "N.topic.exchange.stream.T"
// bound with key T, which stores the topic's events for replay
// (retention: WithRetention). Every publisher and consumer of T declares
// it before use, and publishes are mandatory, so an event the broker
// confirms is stored. A consumer group G has a durable quorum queue
// "N.topic.exchange.queue.G.T" bound with key T, whose members compete for
// its events, and a dead-letter queue "<queue>.dlq". A consumer without a
// group reads the topic's stream queue itself, so it costs no queue;
// its dead letters go to "N.topic.exchange.stream.T.dlq".
//
// The cost: each event is written once to the stream (an append to a log
// on disk, kept until retention drops it) and once per group (a quorum
// queue's replicated, fsynced log). Ungrouped consumers and replays only
// read.
//
// A store named S keeps topic T in the stream queue "S.store.T", written
// through the default exchange: writing to a Store notifies no consumer.
//
// # Semantics
//
// Where this package differs from go-micro's memory and NATS JetStream
// implementations, and why, is listed in README.md next to this file. In
// short: Publish waits for the broker's confirm; WithGroup and WithOffset
// cannot be combined; WithOffset replays by the time an event was
// published (publisher's clock, nanosecond precision), not by its
// Timestamp; WithRetryLimit(n) allows n redeliveries and then dead-letters
// the event (never discards it); a grouped event's delivery count is the
// broker's and includes returns caused by lost channels; Ack and Nack
// report events that can no longer be settled; consumers stop with
// ConsumeContext or RabbitStream.Close, and their channel is closed then;
// topics are literal routing keys (no wildcards); a store Write with a
// known ID replaces the event, and Read writes nothing to the stream;
// StoreOptions.Backup is refused with ErrUnsupported.
package events
