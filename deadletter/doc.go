// Package deadletter builds dead-lettered and retried copies of messages
// and inspects, replays and purges dead-letter queues.
//
// A message that warren gives up on is republished to its queue's
// dead-letter queue, QueueName(queue) = "<queue>.dlq", with headers that say
// why (Headers): the exception message (and stack, for a panic), the
// original exchange and routing key, the route, the queue, the attempt, the
// reason and the time. Those header names are the ones Spring AMQP's
// republishing recoverer writes, plus warren's own x-warren-* ones, so
// existing tools read them.
//
// Inspector reads a dead-letter queue without consuming it (List), moves
// its messages back to the queue that failed them, to be dispatched by
// their original routing key (Replay), and empties it (Purge). The warren command (cmd/warren) is its command line.
package deadletter
