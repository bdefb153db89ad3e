package deadletter

import (
	"errors"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/redact"
)

// Headers returns the headers of msg's dead-letter copy: a new table with
// msg's headers and
//
//	x-exception-message     err.Error(), URL passwords hidden, cut to warren.MaxHeaderValue bytes
//	x-exception-stacktrace  the stack of a *warren.PanicError in err, cut likewise
//	x-original-exchange     msg.Exchange (for a retried message, already the original)
//	x-original-routingKey   msg.RoutingKey (likewise)
//	x-warren-attempt        msg.Attempt, the delivery that failed (int64)
//	x-warren-route          msg.Route ("" when no route matched)
//	x-warren-queue          msg.Queue
//	x-warren-reason         reason (warren.ReasonError, ReasonPermanent, ...)
//	x-warren-failed-at      now, in whole seconds (an AMQP timestamp)
//
// Every string warren writes is cut to warren.MaxHeaderValue bytes, the
// fields too: a retried message's exchange and routing key come from its
// own headers, which any publisher can fill. Values left by an earlier
// failure are replaced; a stack trace that does not belong to err is
// removed. msg.Headers is not modified. A zero now means time.Now().
func Headers(msg *warren.Message, reason string, err error, now time.Time) amqp.Table {
	h := annotate(clone(msg.Headers), msg, err, now)
	h[warren.HeaderAttempt] = int64(msg.Attempt)
	h[warren.HeaderReason] = bounded(reason)
	return h
}

// RetryHeaders returns the headers of msg's delayed-retry copy: those of
// Headers without x-warren-reason, and with x-warren-attempt set to
// msg.Attempt+1, the delivery the copy will be. The original exchange and
// routing key make the copy reach the same route when it comes back from
// its wait queue. msg.Headers is not modified.
func RetryHeaders(msg *warren.Message, err error, now time.Time) amqp.Table {
	h := annotate(clone(msg.Headers), msg, err, now)
	h[warren.HeaderAttempt] = int64(msg.Attempt) + 1
	delete(h, warren.HeaderReason)
	return h
}

// Publishing returns msg's dead-letter copy, ready for a confirming
// publisher: msg's properties and body with Headers(msg, reason, err, now),
// addressed to warren.DeadLetterQueue(msg.Queue) through the default exchange, and
// mandatory, so that a missing dead-letter queue is an error
// (warren.ErrUnroutable) rather than a silent loss.
func Publishing(msg *warren.Message, reason string, err error, now time.Time) *warren.Publishing {
	return copyTo(msg, warren.DeadLetterQueue(msg.Queue), Headers(msg, reason, err, now))
}

// RetryPublishing returns msg's delayed-retry copy: msg's properties and
// body with RetryHeaders(msg, err, now), addressed to waitQueue (see
// warren.WaitQueue) through the default exchange, and mandatory.
func RetryPublishing(msg *warren.Message, err error, now time.Time, waitQueue string) *warren.Publishing {
	return copyTo(msg, waitQueue, RetryHeaders(msg, err, now))
}

// copyTo addresses a copy of msg with headers h to queue. The copy has no
// per-message expiration: a dead letter must not expire in its queue, and a
// retry waits exactly its wait queue's TTL.
func copyTo(msg *warren.Message, queue string, h amqp.Table) *warren.Publishing {
	p := msg.Publishing()
	p.Headers = h
	p.Expiration = ""
	return &warren.Publishing{RoutingKey: queue, Mandatory: true, Publishing: p}
}

// DeliveryCountHeader is the header in which a quorum queue counts the
// deliveries of a message. Only the broker's value means anything, and only
// in the queue that wrote it: copies drop it.
const DeliveryCountHeader = "x-delivery-count"

// annotate writes the failure headers shared by dead-letter and retry
// copies into h, which the caller owns (nil is fine), and returns it.
func annotate(h amqp.Table, msg *warren.Message, err error, now time.Time) amqp.Table {
	if h == nil {
		h = make(amqp.Table, 8)
	}
	if now.IsZero() {
		now = time.Now()
	}
	if err != nil {
		// Errors quote URLs; a password in one must not land in the DLQ.
		h[warren.HeaderExceptionMessage] = warren.BoundedString(redact.Text(err.Error()), warren.MaxHeaderValue)
	} else {
		delete(h, warren.HeaderExceptionMessage)
	}
	var pe *warren.PanicError
	if errors.As(err, &pe) && len(pe.Stack) > 0 {
		h[warren.HeaderExceptionStacktrace] = warren.BoundedString(string(pe.Stack), warren.MaxHeaderValue)
	} else {
		delete(h, warren.HeaderExceptionStacktrace)
	}
	h[warren.HeaderOriginalExchange] = bounded(msg.Exchange)
	h[warren.HeaderOriginalRoutingKey] = bounded(msg.RoutingKey)
	h[warren.HeaderRoute] = bounded(msg.Route)
	h[warren.HeaderQueue] = bounded(msg.Queue)
	h[warren.HeaderFailedAt] = now.UTC().Truncate(time.Second)
	delete(h, DeliveryCountHeader) // the copy is a new message in its queue
	return h
}

// bounded cuts a header value warren writes to warren.MaxHeaderValue.
func bounded(s string) string { return warren.BoundedString(s, warren.MaxHeaderValue) }

// clone deep-copies t with warren's own Message.Clone.
func clone(t amqp.Table) amqp.Table {
	return (&warren.Message{Headers: t}).Clone().Headers
}
