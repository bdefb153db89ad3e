package rabbitmq

import (
	"errors"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// headerRoom is the room a republished copy's headers may take in a frame
// of frameMax bytes (the size negotiated on the publish connection). AMQP
// carries all of a message's properties in one frame; a larger header
// frame makes the broker close the whole publishing connection. 2 KiB are
// left for the other properties and the frame's own overhead.
func headerRoom(frameMax int) int { return max(frameMax-2<<10, 1<<10) }

// errHeadersTooLarge is returned for a copy whose headers cannot be made
// to fit one frame: the message is nacked instead, and the queue's
// dead-letter exchange takes it (on a queue without one, the copy leaves
// the message's own headers out instead: dropOwnHeaders).
var errHeadersTooLarge = errors.New("warren/rabbitmq: the copy's headers do not fit in one AMQP frame")

// fitHeaders makes the headers of a dead-letter or retry copy fit one
// frame: if they are too large it drops the stack trace, then cuts the
// exception message short; if the message's own headers are still too
// large it returns errHeadersTooLarge. frameMax is the negotiated frame size.
func fitHeaders(p *warren.Publishing, frameMax int) error {
	maxHeaderBytes := headerRoom(frameMax)
	if tableSize(p.Headers) <= maxHeaderBytes {
		return nil
	}
	delete(p.Headers, warren.HeaderExceptionStacktrace)
	if msg, ok := p.Headers[warren.HeaderExceptionMessage].(string); ok {
		p.Headers[warren.HeaderExceptionMessage] = warren.BoundedString(msg, 256)
	}
	if tableSize(p.Headers) <= maxHeaderBytes {
		return nil
	}
	return errHeadersTooLarge
}

// tableSize is the encoded size of an AMQP field table, as amqp091-go
// writes it (a little over, never under).
func tableSize(t amqp.Table) int {
	n := 4
	for k, v := range t {
		n += 1 + len(k) + 1 + valueSize(v)
	}
	return n
}

func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return 4 + len(x)
	case []byte:
		return 4 + len(x)
	case amqp.Table:
		return tableSize(x)
	case []any:
		n := 4
		for _, e := range x {
			n += 1 + valueSize(e)
		}
		return n
	case amqp.Decimal:
		return 5
	case time.Time:
		return 8
	default:
		return 8 // numbers and booleans: at most 8 bytes
	}
}

// dropOwnHeaders leaves out of a copy the headers the message came with,
// keeping warren's (x-warren-*, x-exception-*, x-original-*), and counts
// them in HeaderHeadersDropped: for a copy that must reach the DLQ although
// the message's own headers leave no room in a frame.
func dropOwnHeaders(p *warren.Publishing) {
	kept := amqp.Table{}
	dropped := 0
	for k, v := range p.Headers {
		if strings.HasPrefix(k, "x-warren-") || strings.HasPrefix(k, "x-exception-") || strings.HasPrefix(k, "x-original-") {
			kept[k] = v
			continue
		}
		dropped++
	}
	kept[warren.HeaderHeadersDropped] = int64(dropped)
	p.Headers = kept
}
