package rabbitmq

// ConsumerObserver is implemented by an Observer (WithObserver) that wants
// the consumer's own events: restarts and their causes, refused acks, a
// missing queue, the broker's consumer_timeout. warren.Observer has no
// method for them, so the consumer asks for this one.
type ConsumerObserver interface {
	ObserveConsumer(ConsumerEvent)
}

// ConsumerEventKind says what a ConsumerEvent reports.
type ConsumerEventKind uint8

const (
	// ConsumerRestart: the consuming channel was lost, or could not be
	// opened, and the consumer starts again; Err is the cause.
	ConsumerRestart ConsumerEventKind = iota + 1
	// ConsumerAckFailed: the channel refused a basic.ack or basic.nack.
	ConsumerAckFailed
	// ConsumerQueueMissing: the queue does not exist or may not be read
	// (WithSkipDeclare): basic.consume failed with NOT_FOUND or ACCESS_REFUSED.
	ConsumerQueueMissing
	// ConsumerTimeout: the broker closed the channel because a delivery
	// stayed unacknowledged longer than its consumer_timeout; Route is the
	// oldest in-flight route.
	ConsumerTimeout
	// ConsumerSettleRequeued: a settlement copy could not be published and
	// no dead-letter route is known, so the message was requeued instead.
	ConsumerSettleRequeued
	// ConsumerCopyExists: a redelivered message whose dead-letter or retry
	// copy the broker had confirmed (the ack after it was lost with the
	// channel) was acked without running its handler again.
	ConsumerCopyExists
)

// String names the kind.
func (k ConsumerEventKind) String() string {
	switch k {
	case ConsumerRestart:
		return "restart"
	case ConsumerAckFailed:
		return "ack-failed"
	case ConsumerQueueMissing:
		return "queue-missing"
	case ConsumerTimeout:
		return "consumer-timeout"
	case ConsumerSettleRequeued:
		return "settle-requeued"
	case ConsumerCopyExists:
		return "copy-exists"
	default:
		return "unknown"
	}
}

// ConsumerEvent is one event of a consumer.
type ConsumerEvent struct {
	Queue string
	Kind  ConsumerEventKind
	Route string // the route concerned, when one is
	Err   error
}

// observeConsumer hands e to the observer if it is a ConsumerObserver.
func (c *Consumer) observeConsumer(e ConsumerEvent) {
	if o, ok := c.observer.(ConsumerObserver); ok {
		o.ObserveConsumer(e)
	}
}
