package tracing_test

import (
	"slices"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/middleware/tracing"
)

func TestHeaderCarrier(t *testing.T) {
	c := tracing.HeaderCarrier(amqp.Table{
		"traceparent": "00-abc",
		"count":       int64(3),
		"raw":         []byte("bytes"),
		"long":        strings.Repeat("x", tracing.MaxCarrierValue+1),
		"limit":       strings.Repeat("x", tracing.MaxCarrierValue),
	})
	if c.Get("traceparent") != "00-abc" || c.Get("count") != "" || c.Get("raw") != "" || c.Get("long") != "" || c.Get("missing") != "" {
		t.Errorf("Get read a non-string, over-long or missing value")
	}
	if len(c.Get("limit")) != tracing.MaxCarrierValue {
		t.Errorf("Get dropped a value of exactly MaxCarrierValue bytes")
	}
	keys := c.Keys()
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"limit", "traceparent"}) {
		t.Errorf("Keys() = %v, want the readable ones", keys)
	}
	c.Set("tracestate", "k=v")
	if c["tracestate"] != "k=v" {
		t.Error("Set did not write")
	}
	var none tracing.HeaderCarrier
	if none.Get("traceparent") != "" || len(none.Keys()) != 0 {
		t.Error("a nil carrier is not empty")
	}
}
