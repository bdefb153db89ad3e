package rabbitmq

import "time"

// RequesterOption configures a Requester.
type RequesterOption interface{ applyRequester(*requesterConfig) }

type requesterOptionFunc func(*requesterConfig)

func (f requesterOptionFunc) applyRequester(c *requesterConfig) { f(c) }

type requesterConfig struct {
	timeout    time.Duration
	replyQueue bool
}

// DefaultCallTimeout bounds a request whose context has no deadline.
const DefaultCallTimeout = 30 * time.Second

func defaultRequesterConfig() *requesterConfig {
	return &requesterConfig{timeout: DefaultCallTimeout}
}

// WithCallTimeout bounds every request whose context has no deadline of its own
// (default DefaultCallTimeout); 0 leaves such requests unbounded. A
// context's own deadline always applies.
func WithCallTimeout(d time.Duration) RequesterOption {
	return requesterOptionFunc(func(c *requesterConfig) {
		if d >= 0 {
			c.timeout = d
		}
	})
}

// WithReplyQueue makes the requester take its replies from a queue of its own
// (server-named, exclusive, auto-deleted, one per channel) instead of
// RabbitMQ's direct reply-to. Direct reply-to is faster and declares
// nothing; a reply queue suits brokers or proxies without it, and tools that
// need to see the replies as a queue.
func WithReplyQueue() RequesterOption {
	return requesterOptionFunc(func(c *requesterConfig) { c.replyQueue = true })
}
