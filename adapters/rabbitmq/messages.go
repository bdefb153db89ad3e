package rabbitmq

import (
	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/transport"
)

// messages is the root's message pool and delivery reader, reached through
// internal/transport so that users cannot release a message the consumer
// still holds.
var messages = transport.Get[*warren.Message]()
