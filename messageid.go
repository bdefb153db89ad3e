package warren

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// NewMessageID returns an id for a message that has none: a random prefix
// chosen when the process starts, then a counter ("9f86d081884c7d65-42").
// Ids are unique across processes without coordination, cheap to make on
// the publish path, and say nothing about the message. Publishers use it
// for messages published without a MessageId.
func NewMessageID() string {
	return messageIDPrefix + strconv.FormatUint(messageIDCounter.Add(1), 10)
}

var (
	messageIDPrefix  = randomIDPrefix()
	messageIDCounter atomic.Uint64
)

func randomIDPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:]) + "-"
}
