package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/warrentest"
)

type orderCreated struct {
	ID    string `json:"id"`
	Total int    `json:"total"`
}

type orderCreatedV2 struct {
	OrderID string `json:"order_id"`
}

// capture returns a handler that records msg.Value and whether it ran.
func capture(v *any, called *bool) warren.Handler {
	return warren.HandlerFunc(func(_ context.Context, msg *warren.Message) error {
		*v, *called = msg.Value, true
		return nil
	})
}

func newTypes() *middleware.Types {
	types := middleware.NewTypes(nil)
	middleware.RegisterKey[orderCreated](types, "Order.Created")
	middleware.RegisterType[orderCreatedV2](types, "order.created.v2")
	return types
}

func TestDecodeByRoutingKey(t *testing.T) {
	var v any
	var called bool
	msg := warrentest.NewJSONMessage("Order.Created", orderCreated{ID: "o-1", Total: 42})
	rec := warrentest.Serve(middleware.Decode(newTypes())(capture(&v, &called)), msg)
	if !rec.Acked() {
		t.Fatalf("outcome = %+v", rec.Outcome)
	}
	if got, ok := v.(orderCreated); !ok || got != (orderCreated{ID: "o-1", Total: 42}) {
		t.Fatalf("msg.Value = %#v, want orderCreated{o-1, 42}", v)
	}
}

func TestDecodeTypePropertyWins(t *testing.T) {
	var v any
	var called bool
	h := middleware.Decode(newTypes())(capture(&v, &called))
	msg := warrentest.NewMessage("Order.Created", []byte(`{"order_id":"o-2"}`), warrentest.WithType("order.created.v2"))
	warrentest.Serve(h, msg)
	if got, ok := v.(orderCreatedV2); !ok || got.OrderID != "o-2" {
		t.Fatalf("msg.Value = %#v, want orderCreatedV2{o-2}", v)
	}
	// An unregistered type property falls back to the routing key.
	msg = warrentest.NewMessage("Order.Created", []byte(`{"id":"o-3"}`), warrentest.WithType("unknown"))
	warrentest.Serve(h, msg)
	if got, ok := v.(orderCreated); !ok || got.ID != "o-3" {
		t.Fatalf("msg.Value = %#v, want orderCreated{o-3}", v)
	}
}

func TestDecodeUnregisteredPassesThrough(t *testing.T) {
	var v any = "sentinel"
	var called bool
	msg := warrentest.NewMessage("Order.Deleted", []byte("not json at all"))
	rec := warrentest.Serve(middleware.Decode(newTypes())(capture(&v, &called)), msg)
	if !called || v != nil || !rec.Acked() {
		t.Fatalf("called %v, value %#v, outcome %+v: want the handler called with no value", called, v, rec.Outcome)
	}
	// A value set earlier is left alone.
	msg = warrentest.NewMessage("Order.Created", []byte("not json"))
	msg.Value = 7
	warrentest.Serve(middleware.Decode(newTypes())(capture(&v, &called)), msg)
	if v != 7 {
		t.Fatalf("msg.Value = %#v, want the earlier 7", v)
	}
}

func TestDecodeFailureDeadLetters(t *testing.T) {
	for name, msg := range map[string]*warren.Message{
		"bad json":     warrentest.NewMessage("Order.Created", []byte(`{"id":`), warrentest.WithContentType("application/json")),
		"wrong shape":  warrentest.NewMessage("Order.Created", []byte(`{"total":"many"}`)),
		"unknown type": warrentest.NewMessage("Order.Created", []byte(`<id/>`), warrentest.WithContentType("application/xml")),
	} {
		t.Run(name, func(t *testing.T) {
			var v any
			var called bool
			rec := warrentest.Serve(middleware.Decode(newTypes())(capture(&v, &called)), msg)
			if called {
				t.Error("handler called for an undecodable body")
			}
			var de *warren.DecodeError
			if !errors.As(rec.Err, &de) || de.ContentType != msg.ContentType {
				t.Errorf("err = %#v, want *warren.DecodeError for %q", rec.Err, msg.ContentType)
			}
			if reason, ok := rec.DeadLettered(); !ok || reason != warren.ReasonDecode {
				t.Errorf("outcome = %+v, want dead-letter with reason decode", rec.Outcome)
			}
		})
	}
}

type upperCodec struct{}

func (upperCodec) ContentType() string           { return "text/plain" }
func (upperCodec) Marshal(v any) ([]byte, error) { return []byte(v.(string)), nil }
func (upperCodec) Unmarshal(data []byte, v any) error {
	*v.(*string) = strings.ToUpper(string(data))
	return nil
}

func TestDecodeWithCodecs(t *testing.T) {
	types := middleware.NewTypes(warren.NewCodecs(upperCodec{}))
	middleware.RegisterKey[string](types, "note")
	var v any
	var called bool
	msg := warrentest.NewMessage("note", []byte("hello"), warrentest.WithContentType("text/plain; charset=utf-8"))
	warrentest.Serve(middleware.Decode(types)(capture(&v, &called)), msg)
	if v != "HELLO" {
		t.Fatalf("msg.Value = %#v, want HELLO from the text/plain codec", v)
	}
}

func TestDecodeFeedsTyped(t *testing.T) {
	var got orderCreated
	typed := warren.Typed(func(_ context.Context, o orderCreated) error { got = o; return nil })
	msg := warrentest.NewJSONMessage("Order.Created", orderCreated{ID: "o-4"})
	if rec := warrentest.Serve(middleware.Decode(newTypes())(typed), msg); !rec.Acked() || got.ID != "o-4" {
		t.Fatalf("outcome %+v, value %+v", rec.Outcome, got)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	types := newTypes()
	defer func() {
		if r, _ := recover().(string); !strings.Contains(r, `"Order.Created" registered twice`) {
			t.Errorf("recover() = %q, want a panic naming the key", r)
		}
	}()
	middleware.RegisterKey[orderCreatedV2](types, "Order.Created")
}
