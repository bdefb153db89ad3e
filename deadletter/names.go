package deadletter

import "strings"

// Suffix ends the name of every dead-letter queue warren declares
// (warren.DeadLetterQueue names them: Suffix is its suffix).
const Suffix = ".dlq"

// IsQueueName reports whether name is a dead-letter queue's name.
func IsQueueName(name string) bool { return strings.HasSuffix(name, Suffix) && len(name) > len(Suffix) }
