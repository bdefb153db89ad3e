package rabbitmq

import (
	"unicode/utf8"

	"github.com/warren-mq/warren"
)

// maxShortString is the longest AMQP short string, which a consumer tag is.
const maxShortString = 255

// consumerTag names a subscription on the broker (a Consumer's, or a
// Requester's reply consumer's): <name>.<unique id>, at most
// maxShortString bytes, the name cut at a character boundary if it is too
// long. The queue is not part of it: the broker lists every consumer with
// its queue already, a queue name may take all 255 bytes by itself, and
// the tag travels in every basic.deliver, so each of its bytes is paid for
// per message by the broker and the client.
func consumerTag(name string) string {
	id := warren.NewMessageID()
	if room := maxShortString - len(id) - 1; len(name) > room {
		for room > 0 && !utf8.RuneStart(name[room]) {
			room--
		}
		name = name[:room]
	}
	return name + "." + id
}
