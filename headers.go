package warren

import (
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Header names warren writes on retried and dead-lettered messages. Where an
// existing tool already reads a name (Spring AMQP's republishing recoverer),
// warren uses that name.
const (
	HeaderExceptionMessage    = "x-exception-message"
	HeaderExceptionStacktrace = "x-exception-stacktrace"
	HeaderOriginalExchange    = "x-original-exchange"
	HeaderOriginalRoutingKey  = "x-original-routingKey"

	HeaderAttempt  = "x-warren-attempt"
	HeaderRoute    = "x-warren-route"
	HeaderQueue    = "x-warren-queue"
	HeaderReason   = "x-warren-reason"
	HeaderFailedAt = "x-warren-failed-at"
	// HeaderHeadersDropped counts the message's own headers a dead-letter
	// copy left out because they did not fit one AMQP frame beside
	// warren's (only on a queue without a dead-letter exchange, where the
	// copy is the message's one way to the DLQ).
	HeaderHeadersDropped = "x-warren-headers-dropped"

	// HeaderError and HeaderErrorCode carry a handler's error on a reply
	// (see ReplyError): the error's message, and a code such as "decode",
	// "permanent", "error" or one the handler chose with ErrorCode.
	HeaderError     = "x-warren-error"
	HeaderErrorCode = "x-warren-error-code"
)

// MaxHeaderValue is the longest string warren writes into a header it sets
// (exception messages and stack traces are cut to it).
const MaxHeaderValue = 4096

// MaxAttempt bounds an attempt count read from the x-warren-attempt
// header, so that a hostile or corrupt header cannot make it absurd.
const MaxAttempt = 1 << 20

// BoundedString cuts s to at most n bytes without splitting a UTF-8
// sequence, marking the cut with "...".
func BoundedString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 3 {
		return s[:n]
	}
	cut := n - 3
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// AttemptOf reads the x-warren-attempt header: the attempt it holds, cut to
// MaxAttempt, and true; or 0 and false when the header is missing or holds
// anything but a positive integer.
func AttemptOf(h amqp.Table) (int, bool) {
	n, ok := HeaderInt(h, HeaderAttempt)
	if !ok || n < 1 {
		return 0, false
	}
	return int(min(n, MaxAttempt)), true
}

// attemptOf is the attempt of a delivery: AttemptOf, or 1 for a first
// delivery (no usable header).
func attemptOf(h amqp.Table) int {
	if n, ok := AttemptOf(h); ok {
		return n
	}
	return 1
}

// HeaderString reads a string header; []byte values count as strings.
// Anything else, and a missing header, reports false.
func HeaderString(h amqp.Table, key string) (string, bool) {
	switch v := h[key].(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	default:
		return "", false
	}
}

// HeaderInt reads an integer header of any AMQP integer type, or a decimal
// string. Anything else (floats, tables, garbage), and a missing header,
// reports false: headers may come from any publisher.
func HeaderInt(h amqp.Table, key string) (int64, bool) {
	switch v := h[key].(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	default:
		return 0, false
	}
}

// Death is one entry of the broker's x-death header: how often a message was
// dead-lettered from one queue for one reason.
type Death struct {
	Queue       string
	Reason      string // rejected, expired, maxlen, delivery_limit
	Count       int64
	Exchange    string
	RoutingKeys []string
	Time        time.Time
}

// Deaths reads the x-death header the broker adds when it dead-letters a
// message. Malformed entries are skipped, never fatal: the header may come
// from any publisher.
func Deaths(h amqp.Table) []Death {
	list, ok := h["x-death"].([]any)
	if !ok {
		return nil
	}
	out := make([]Death, 0, len(list))
	for _, e := range list {
		t, ok := e.(amqp.Table)
		if !ok {
			continue
		}
		var d Death
		d.Queue, _ = HeaderString(t, "queue")
		d.Reason, _ = HeaderString(t, "reason")
		d.Exchange, _ = HeaderString(t, "exchange")
		if n, ok := HeaderInt(t, "count"); ok && n >= 0 {
			d.Count = n
		}
		if keys, ok := t["routing-keys"].([]any); ok {
			for _, k := range keys {
				if s, ok := k.(string); ok {
					d.RoutingKeys = append(d.RoutingKeys, s)
				}
			}
		}
		if ts, ok := t["time"].(time.Time); ok {
			d.Time = ts
		}
		out = append(out, d)
	}
	return out
}
