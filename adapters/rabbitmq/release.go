package rabbitmq

// WithReleaseOnShutdown changes how a graceful shutdown lets go of the
// queue: instead of cancelling the subscription first (basic.cancel) and
// then draining, the consumer stops taking deliveries, lets the running
// handlers finish, sends their acks, and only then closes its channel, so
// the broker gets back every message no handler started in one step.
//
// It is for single-active-consumer queues that must keep their order across
// a handover (partitions, adapters/rabbitmq/partition sets it): a quorum
// queue makes the next consumer active at basic.cancel, which would then
// handle later messages while the stopping one still holds earlier ones.
// Without the cancel the queue stays with this consumer until its channel
// closes, after which the next consumer starts from the first unsettled
// message. The cost: deliveries keep arriving during the drain (up to the
// prefetch) and go back to the queue unhandled.
func WithReleaseOnShutdown() ConsumerOption {
	return consumerOptionFunc(func(c *consumerConfig) { c.releaseOnShutdown = true })
}
