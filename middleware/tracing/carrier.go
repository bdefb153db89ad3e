package tracing

import amqp "github.com/rabbitmq/amqp091-go"

// MaxCarrierValue is the longest header value HeaderCarrier.Get returns
// (warren.MaxHeaderValue is a different bound: the longest value warren writes).
// W3C trace context and baggage values are far shorter (baggage is bounded
// at 8192 bytes), so a longer value is garbage: ignored rather than parsed.
const MaxCarrierValue = 8192

// HeaderCarrier adapts AMQP headers to a propagation.TextMapCarrier, so a
// propagator can read and write trace context in them:
//
//	ctx = propagator.Extract(ctx, tracing.HeaderCarrier(msg.Headers))
//	propagator.Inject(ctx, tracing.HeaderCarrier(headers))
//
// Only string values are read: a value of another type (a number, a table,
// bytes) or longer than MaxCarrierValue is reported as missing, so hostile or
// corrupt headers make extraction find nothing, never fail. Get and Keys
// work on a nil table; Set needs a non-nil one.
type HeaderCarrier amqp.Table

// Get returns the string value of key, or "".
func (c HeaderCarrier) Get(key string) string {
	s, ok := c[key].(string)
	if !ok || len(s) > MaxCarrierValue {
		return ""
	}
	return s
}

// Set stores value under key, replacing what was there.
func (c HeaderCarrier) Set(key, value string) { c[key] = value }

// Keys returns the keys whose values Get would return.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		if c.Get(k) != "" {
			keys = append(keys, k)
		}
	}
	return keys
}
