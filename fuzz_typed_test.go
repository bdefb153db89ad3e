package warren_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
)

// fuzzOrder is a body type with the shapes JSON decoding trips on:
// nested slices and maps, numbers of several widths, pointers, times.
type fuzzOrder struct {
	ID    string `json:"id"`
	Qty   int    `json:"qty"`
	Items []struct {
		SKU   string  `json:"sku"`
		N     uint8   `json:"n"`
		Price float32 `json:"price"`
	} `json:"items"`
	Meta  map[string]any `json:"meta"`
	At    time.Time      `json:"at"`
	Note  *string        `json:"note"`
	Flags [2]bool        `json:"flags"`
	Raw   json.RawMessage
}

// FuzzTyped serves arbitrary bodies with arbitrary content types to
// Typed handlers of several types: the handler is called exactly when the
// body decodes, and otherwise the result is a *warren.DecodeError that
// dead-letters with reason "decode". Nothing panics.
func FuzzTyped(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"id":"o-1","qty":2,"items":[{"sku":"a","n":1,"price":9.5}],"meta":{"k":[1,{"x":null}]}}`},
		{"", `{"id":"o-1","at":"2024-05-06T07:08:09Z","note":"n","flags":[true,false]}`},
		{"application/vnd.orders+json; charset=utf-8", `[1,2,3]`},
		{"APPLICATION/JSON", `"just a string"`},
		{"application/json", `{"id": "o-1",`},
		{"application/json", `{"id": 42, "qty": "two"}`},
		{"application/json", `{"items":[{"n":256}]}`},
		{"application/json", `{"at":"yesterday"}`},
		{"application/json", strings.Repeat("[", 10000)},
		{"application/json", `{"qty": 1e400}`},
		{"application/json", "\xff\xfe{\x00}"},
		{"application/xml", `<order id="1"/>`},
		{"text/plain", `{"id":"o-1"}`},
		{"\x00;;=\xff", `{}`},
		{"application/json; charset=", `{}`},
		{"application/json", ""},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		checkTyped[fuzzOrder](t, contentType, body)
		checkTyped[*fuzzOrder](t, contentType, body)
		checkTyped[[]int](t, contentType, body)
		checkTyped[map[string]string](t, contentType, body)
		checkTyped[string](t, contentType, body)
		checkTyped[any](t, contentType, body)
	})
}

func checkTyped[T any](t *testing.T, contentType string, body []byte) {
	t.Helper()
	called := false
	h := warren.Typed(func(ctx context.Context, v T) error {
		called = true
		if warren.MessageFromContext(ctx) == nil {
			t.Fatal("no message in the handler's context")
		}
		return nil
	})
	err := h.ServeMessage(context.Background(), &warren.Message{ContentType: contentType, Body: body})
	var de *warren.DecodeError
	switch {
	case err == nil:
		if !called {
			t.Fatalf("%T: nil error without calling the handler", *new(T))
		}
		if !json.Valid(body) {
			t.Fatalf("%T: handler called for a body that is not JSON: %q (%q)", *new(T), body, contentType)
		}
	case errors.As(err, &de):
		if called {
			t.Fatalf("%T: handler called and decode error %v", *new(T), err)
		}
		if de.ContentType != contentType {
			t.Fatalf("DecodeError.ContentType = %q, want %q", de.ContentType, contentType)
		}
		if o := warren.OutcomeOf(err); o.Action != warren.ActionDeadLetter || o.Reason != warren.ReasonDecode {
			t.Fatalf("a decode error settles as %v %q", o.Action, o.Reason)
		}
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
	default:
		t.Fatalf("%T: error %v (%T) is neither nil nor a *warren.DecodeError", *new(T), err, err)
	}
}
