// Package partition is the partitioned consumer: a service's stream spread
// over the N partition queues of a partition.Layout, consumed by a fleet
// in which every instance subscribes to every partition as one of its
// single active consumers. The broker delivers each partition to exactly
// one instance at a time and, when that instance's connection goes, to
// the next one subscribed; within an instance each partition has its own
// lane (one handler at a time, in queue order).
//
// Activity: AMQP 0-9-1 does not tell a consumer that the broker made it
// the active one, so an instance counts itself active on a partition from
// the first delivery it receives from it, and inactive on all of them when
// its consuming connection is lost. An active partition with nothing to
// deliver shows as inactive until its next message; the management API
// (single_active_consumer_tag) would know better, but needs the
// management plugin, which warren does not require.
//
// Order and retries: with the default in-place retry (retry.Backoff in the
// router) a failing message holds its partition until it succeeds or is
// dead-lettered: order is kept. With DelayedRetry the message waits in its
// partition's wait queue while later messages of the partition (and of
// its key) pass it: order is not kept for that key. Dead-lettering never
// blocks: the message is republished to the partition's DLQ, confirmed and
// acked, and the lane goes on.
package partition
