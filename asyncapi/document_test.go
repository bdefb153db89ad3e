package asyncapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/asyncapi"
)

func TestDocumentRefusesWhatItCannotDescribe(t *testing.T) {
	r := warren.NewRouter()
	r.HandleFunc("a.b", func(context.Context, *warren.Message) error { return nil })
	if _, err := asyncapi.Document(warren.Describe("", r, warren.Topology{})); err == nil || !strings.Contains(err.Error(), "no service name") {
		t.Errorf("no name: %v", err)
	}
	if _, err := asyncapi.Document(warren.Describe("svc", r, warren.Topology{})); err == nil || !strings.Contains(err.Error(), `route "a.b": no binding`) {
		t.Errorf("a route no binding delivers: %v", err)
	}
}

func TestUntypedRoutesAndFanout(t *testing.T) {
	r := warren.NewRouter()
	r.HandleFunc("#", func(context.Context, *warren.Message) error { return nil })
	top, err := warren.ConsumerTopology(warren.Exchange{Name: "audit", Kind: warren.KindFanout, Durable: true,
		Args: map[string]any{"alternate-exchange": "ae"}}, warren.Queue{Name: "audit-q"}, r.Routes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := asyncapi.Document(warren.Describe("auditor", r, top))
	if err != nil {
		t.Fatal(err)
	}
	chans := doc["channels"].(map[string]any)
	if len(chans) != 1 {
		t.Fatalf("channels %v", chans)
	}
	for _, ch := range chans {
		amqp := ch.(map[string]any)["bindings"].(map[string]any)["amqp"].(map[string]any)
		if amqp["exchange"].(map[string]any)["type"] != "fanout" || amqp["x-exchange-arguments"].(map[string]any)["alternate-exchange"] != "ae" {
			t.Errorf("binding %v", amqp)
		}
	}
	msgs := doc["components"].(map[string]any)["messages"].(map[string]any)
	for _, m := range msgs {
		if m.(map[string]any)["payload"] != nil {
			t.Errorf("an untyped route has a payload schema: %v", m)
		}
	}
}
