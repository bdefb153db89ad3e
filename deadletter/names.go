package deadletter

import (
	"strings"

	"github.com/warren-mq/warren"
)

// Suffix ends the name of every dead-letter queue warren declares.
const Suffix = ".dlq"

// QueueName returns the dead-letter queue of queue: "<queue>.dlq".
func QueueName(queue string) string { return warren.DeadLetterQueue(queue) }

// IsQueueName reports whether name is a dead-letter queue's name.
func IsQueueName(name string) bool { return strings.HasSuffix(name, Suffix) && len(name) > len(Suffix) }
