package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
)

type fuzzItem struct {
	SKU string  `json:"sku"`
	N   uint16  `json:"n"`
	P   float64 `json:"p"`
}

type fuzzOrder struct {
	ID    string         `json:"id"`
	Items []fuzzItem     `json:"items"`
	Meta  map[string]any `json:"meta"`
	Next  *fuzzOrder     `json:"next"`
}

// fuzzTypes registers one type per routing key or type name, and the
// type each decodes into.
func fuzzTypes() (*middleware.Types, map[string]reflect.Type, map[string]reflect.Type) {
	types := middleware.NewTypes(nil)
	middleware.RegisterKey[fuzzOrder](types, "Order.Created")
	middleware.RegisterKey[map[string]any](types, "Any.Map")
	middleware.RegisterKey[[]fuzzItem](types, "")
	middleware.RegisterType[[]int](types, "ints")
	middleware.RegisterType[string](types, "text")
	middleware.RegisterType[*fuzzOrder](types, "order-ptr")
	byKey := map[string]reflect.Type{
		"Order.Created": reflect.TypeFor[fuzzOrder](),
		"Any.Map":       reflect.TypeFor[map[string]any](),
		"":              reflect.TypeFor[[]fuzzItem](),
	}
	byType := map[string]reflect.Type{
		"ints":      reflect.TypeFor[[]int](),
		"text":      reflect.TypeFor[string](),
		"order-ptr": reflect.TypeFor[*fuzzOrder](),
	}
	return types, byKey, byType
}

// FuzzDecode serves arbitrary messages through Decode: a message whose
// type or key is registered reaches the handler with a value of exactly
// the registered type, or fails with a *warren.DecodeError without
// reaching it; any other message reaches the handler untouched. Nothing
// panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []struct{ typ, key, ct, body string }{
		{"", "Order.Created", "application/json", `{"id":"o-1","items":[{"sku":"a","n":2,"p":1.5}],"next":{"id":"o-2"}}`},
		{"", "Order.Created", "application/json", `{"id":"o-1",`},
		{"", "Order.Created", "application/xml", `<order/>`},
		{"ints", "Order.Created", "", `[1,2,3]`},
		{"ints", "", "application/json", `[1,"2"]`},
		{"text", "x", "application/problem+json", `"hello"`},
		{"order-ptr", "", "application/json", `null`},
		{"unknown", "Any.Map", "application/json; charset=utf-8", `{"a":[{}],"b":null}`},
		{"unknown", "nobody", "application/octet-stream", "\x00\xff"},
		{"", "", "application/json", `[{"n":70000}]`},
		{"", "Any.Map", "application/json", strings.Repeat(`{"a":`, 5000)},
	} {
		f.Add(s.typ, s.key, s.ct, []byte(s.body))
	}
	types, byKey, byType := fuzzTypes()
	f.Fuzz(func(t *testing.T, typ, key, contentType string, body []byte) {
		var seen any
		called := false
		h := middleware.Decode(types)(warren.HandlerFunc(func(_ context.Context, m *warren.Message) error {
			called, seen = true, m.Value
			return nil
		}))
		msg := &warren.Message{Type: typ, RoutingKey: key, ContentType: contentType, Body: body}
		err := h.ServeMessage(context.Background(), msg)

		want, registered := byType[typ]
		if !registered || typ == "" {
			want, registered = byKey[key]
		}
		var de *warren.DecodeError
		switch {
		case !registered:
			if err != nil || !called || seen != nil {
				t.Fatalf("unregistered message: err %v, called %v, value %v", err, called, seen)
			}
		case err == nil:
			if !called || reflect.TypeOf(seen) != want && !(seen == nil && want.Kind() == reflect.Pointer) {
				t.Fatalf("decoded into %T, want %v", seen, want)
			}
			if !json.Valid(body) {
				t.Fatalf("decoded a body that is not JSON: %q", body)
			}
		case errors.As(err, &de):
			if called {
				t.Fatal("the handler was called after a decode error")
			}
			if o := warren.OutcomeOf(err); o.Action != warren.ActionDeadLetter || o.Reason != warren.ReasonDecode {
				t.Fatalf("a decode error settles as %v %q", o.Action, o.Reason)
			}
		default:
			t.Fatalf("error %v (%T) is neither nil nor a *warren.DecodeError", err, err)
		}
	})
}
