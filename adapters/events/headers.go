package events

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// Headers the package writes besides the event's metadata.
const (
	// HeaderEventTime carries Event.Timestamp in Unix nanoseconds (the AMQP
	// timestamp property has whole seconds only).
	HeaderEventTime = "x-warren-event-time"
	// HeaderPublishedAt carries the publisher's clock at Publish, in Unix
	// nanoseconds: WithOffset filters by it. (Releases before it had
	// nanoseconds wrote milliseconds; values below 1e15 are read as such.)
	HeaderPublishedAt = "x-warren-published-at"
	// HeaderExpiresAt carries a stored event's expiry in Unix milliseconds.
	HeaderExpiresAt = "x-warren-expires-at"
)

// Broker-written headers that are not metadata.
const (
	brokerStreamOffset  = "x-stream-offset"
	brokerDeliveryCount = "x-delivery-count"
)

var reservedPrefixes = []string{"x-warren-", "x-death", "x-first-death-", "x-last-death-", "x-exception-", "x-original-"}

func reservedKey(k string) bool {
	if k == brokerStreamOffset || k == brokerDeliveryCount {
		return true
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// metadataHeaders turns metadata into AMQP headers, refusing keys the
// broker would reject or that the package reads itself.
func metadataHeaders(md map[string]string) (amqp.Table, error) {
	h := make(amqp.Table, len(md)+3)
	for k, v := range md {
		switch {
		case k == "" || len(k) > maxName || !utf8.ValidString(k):
			return nil, fmt.Errorf("%w: metadata key %q must be 1 to %d bytes of UTF-8", ErrInvalidOption, k, maxName)
		case reservedKey(k):
			return nil, fmt.Errorf("%w: %q", ErrReservedMetadata, k)
		}
		h[k] = v
	}
	return h, nil
}

// publishing builds the AMQP message of an event.
func publishing(id string, ts time.Time, h amqp.Table, payload []byte, contentType string) amqp.Publishing {
	now := time.Now()
	h[HeaderEventTime] = ts.UnixNano()
	h[HeaderPublishedAt] = now.UnixNano()
	return amqp.Publishing{
		Headers:      h,
		ContentType:  contentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    id,
		Timestamp:    ts.UTC().Truncate(time.Second),
		Body:         payload,
	}
}

// eventOf reads the event carried by a delivery from topic.
func eventOf(d *amqp.Delivery, topic string) Event {
	ev := Event{
		ID:        d.MessageId,
		Topic:     topic,
		Timestamp: d.Timestamp,
		Payload:   d.Body,
	}
	if ns, ok := warren.HeaderInt(d.Headers, HeaderEventTime); ok {
		ev.Timestamp = time.Unix(0, ns)
	}
	for k, v := range d.Headers {
		if reservedKey(k) {
			continue
		}
		if ev.Metadata == nil {
			ev.Metadata = make(map[string]string, len(d.Headers))
		}
		switch x := v.(type) {
		case string:
			ev.Metadata[k] = x
		case []byte:
			ev.Metadata[k] = string(x)
		default:
			ev.Metadata[k] = fmt.Sprint(x)
		}
	}
	return ev
}

// millisecondsBelow tells the two units of HeaderPublishedAt apart: Unix
// milliseconds stay below it until the year 33658, Unix nanoseconds have
// been above it since 1970-01-12.
const millisecondsBelow = 1e15

// publishedAt returns when the event was published by the publisher's
// clock, falling back on the AMQP timestamp; ok is false when neither is
// there.
func publishedAt(d *amqp.Delivery) (time.Time, bool) {
	if v, ok := warren.HeaderInt(d.Headers, HeaderPublishedAt); ok {
		if v < millisecondsBelow {
			return time.UnixMilli(v), true
		}
		return time.Unix(0, v), true
	}
	if !d.Timestamp.IsZero() {
		return d.Timestamp, true
	}
	return time.Time{}, false
}

// newID returns a random UUID (version 4) in its canonical form.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
