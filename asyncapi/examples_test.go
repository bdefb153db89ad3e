package asyncapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/asyncapi"
)

// The payload types of examples/orders and examples/rpc, as declared there.
type (
	OrderCreated struct {
		OrderID  string `json:"orderId"`
		Customer string `json:"customer"`
		Total    int    `json:"totalCents"`
	}
	OrderUpdated struct {
		OrderID string `json:"orderId"`
		Status  string `json:"status"`
	}
	PriceQuery struct {
		SKU string `json:"sku"`
	}
	Price struct {
		SKU   string `json:"sku"`
		Cents int    `json:"cents"`
	}
)

// consumerTopology is the topology a rabbitmq consumer declares for spec
// (rabbitmq.NewConsumer computes it the same way).
func consumerTopology(t *testing.T, spec rabbitmq.Spec, r *warren.Router, delays ...time.Duration) warren.Topology {
	t.Helper()
	top, err := warren.ConsumerTopology(spec.Exchange, spec.Queue, r.Routes(), delays)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func nop[T any](context.Context, T) error { return nil }

// exampleServices are the descriptions of the services of examples/orders
// and examples/rpc, built with the same routes, payloads and conventions.
func exampleServices(t *testing.T) map[string]warren.Description {
	stat := warren.NewRouter()
	stat.Handle("Order.Created", warren.Typed(nop[OrderCreated]))

	shipping := warren.NewRouter()
	shipping.Handle("Order.Created", warren.Typed(nop[OrderCreated]))
	shipping.Handle("Order.Updated", warren.Typed(nop[OrderUpdated]))

	pricing := warren.NewRouter()
	pricing.Handle("Price.Get", warren.TypedReply(func(context.Context, PriceQuery) (Price, error) { return Price{}, nil }))

	return map[string]warren.Description{
		"stat-service":     warren.Describe("stat-service", stat, consumerTopology(t, rabbitmq.EventStream("stat-service"), stat)),
		"shipping-service": warren.Describe("shipping-service", shipping, consumerTopology(t, rabbitmq.EventStream("shipping-service"), shipping, 5*time.Second, time.Minute)),
		"order-service": warren.Describe("order-service", nil, warren.Topology{
			Exchanges: []warren.Exchange{{Name: warren.EventExchange, Kind: warren.KindTopic, Durable: true}},
		},
			warren.WithSend[OrderCreated](warren.EventExchange, "Order.Created"),
			warren.WithSend[OrderUpdated](warren.EventExchange, "Order.Updated"),
			warren.WithRequest[PriceQuery, Price](warren.RequestExchange("pricing-service"), "Price.Get"),
		),
		"pricing-service": warren.Describe("pricing-service", pricing, consumerTopology(t, rabbitmq.Requests("pricing-service"), pricing)),
	}
}

func TestExampleServicesAreValidAsyncAPI(t *testing.T) {
	docs := map[string][]byte{}
	parsed := map[string]map[string]any{}
	for name, d := range exampleServices(t) {
		// Through JSON, as `warren asyncapi --file` reads a description.
		var back warren.Description
		b, _ := json.Marshal(d)
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		var w strings.Builder
		if err := asyncapi.Write(&w, back, asyncapi.WithVersion("1.0.0"), asyncapi.WithServer("127.0.0.1:5672", "/")); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = []byte(w.String())
		var m map[string]any
		if err := json.Unmarshal(docs[name], &m); err != nil {
			t.Fatal(err)
		}
		parsed[name] = m
	}
	for name, r := range parse(t, docs) {
		errors := 0
		for _, d := range r.Diagnostics {
			if d.Severity == 0 {
				errors++
				t.Errorf("%s: parser error %s at %v: %s", name, d.Code, d.Path, d.Message)
			} else {
				t.Logf("%s: parser severity %d %s at %v: %s", name, d.Severity, d.Code, d.Path, d.Message)
			}
		}
		if !r.Parsed || errors > 0 {
			t.Errorf("%s: not a valid AsyncAPI document:\n%s", name, docs[name])
		}
	}

	// What the documents say, beyond being valid.
	ops := func(service string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for id, op := range parsed[service]["operations"].(map[string]any) {
			out[id] = op.(map[string]any)
		}
		return out
	}
	actions := func(service string) map[string]int {
		n := map[string]int{}
		for _, op := range ops(service) {
			a := op["action"].(string)
			if op["reply"] != nil {
				a += "+reply"
			}
			n[a]++
		}
		return n
	}
	for service, want := range map[string]map[string]int{
		"stat-service":     {"receive": 1},
		"shipping-service": {"receive": 2},
		"order-service":    {"send": 2, "send+reply": 1},
		"pricing-service":  {"receive+reply": 1},
	} {
		if got := actions(service); !equalCounts(got, want) {
			t.Errorf("%s operations %v, want %v", service, got, want)
		}
	}
	msgs := parsed["shipping-service"]["components"].(map[string]any)["messages"].(map[string]any)
	created, _ := msgs["OrderCreated"].(map[string]any)
	payload, _ := created["payload"].(map[string]any)
	props, _ := payload["properties"].(map[string]any)
	if props["orderId"] == nil || props["totalCents"].(map[string]any)["type"] != "integer" || len(payload["required"].([]any)) != 3 {
		t.Errorf("OrderCreated payload %v", payload)
	}
	// The AMQP binding of shipping's Order.Created channel: the exchange
	// and the queue it is consumed from.
	for _, ch := range parsed["shipping-service"]["channels"].(map[string]any) {
		ch := ch.(map[string]any)
		if ch["address"] != "Order.Created" {
			continue
		}
		amqp := ch["bindings"].(map[string]any)["amqp"].(map[string]any)
		ex := amqp["exchange"].(map[string]any)
		q := amqp["x-queue"].(map[string]any)
		args := q["arguments"].(map[string]any)
		if ex["name"] != warren.EventExchange || ex["type"] != "topic" || ex["durable"] != true ||
			q["name"] != warren.ServiceQueue(warren.EventExchange, "shipping-service") || q["durable"] != true ||
			args["x-dead-letter-routing-key"] != warren.ServiceQueue(warren.EventExchange, "shipping-service")+".dlq" {
			t.Errorf("Order.Created binding %v", amqp)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
