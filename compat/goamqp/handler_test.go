package goamqp_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/warren-mq/warren"
	goamqp "github.com/warren-mq/warren/compat/goamqp"
	"github.com/warren-mq/warren/warrentest"
)

type OrderCreated struct {
	ID string `json:"id"`
}

type OrderUpdated struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

var orderTypes = goamqp.Types{"Order.Created": OrderCreated{}, "Order.Updated": OrderUpdated{}}

// TestRouteDecodesByRoutingKey: one HandlerFunc mounted for two keys gets a
// pointer of each key's type, and the headers with the routing key added.
func TestRouteDecodesByRoutingKey(t *testing.T) {
	var got []any
	var headers []goamqp.Headers
	r := warren.NewRouter()
	goamqp.Route(r, orderTypes, func(msg any, h goamqp.Headers) (any, error) {
		got = append(got, msg)
		headers = append(headers, h)
		return nil, nil
	})
	if n := len(r.Routes()); n != 2 {
		t.Fatalf("routes: %d, want 2", n)
	}
	rec := warrentest.Serve(r, warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "1"}, warrentest.WithHeader("service", "orders")))
	if !rec.Acked() {
		t.Fatalf("Order.Created: %+v, want ack", rec.Outcome)
	}
	rec = warrentest.Serve(r, warrentest.NewJSONMessage("Order.Updated", OrderUpdated{ID: "2", Status: "paid"}))
	if !rec.Acked() {
		t.Fatalf("Order.Updated: %+v, want ack", rec.Outcome)
	}
	if c, ok := got[0].(*OrderCreated); !ok || c.ID != "1" {
		t.Fatalf("first message %#v, want *OrderCreated{ID: 1}", got[0])
	}
	if u, ok := got[1].(*OrderUpdated); !ok || u.ID != "2" || u.Status != "paid" {
		t.Fatalf("second message %#v, want *OrderUpdated{2, paid}", got[1])
	}
	if headers[0].Get("service") != "orders" || headers[0].Get(goamqp.HeaderRoutingKey) != "Order.Created" {
		t.Fatalf("headers %v: want service=orders and routing-key=Order.Created", headers[0])
	}
}

// TestHandlerOnPatternNeedsAType: a key with no registered type under a
// pattern route is dead-lettered as no-route, never requeued; a body that
// does not decode is dead-lettered as decode; the handler is not called.
func TestHandlerOnPatternNeedsAType(t *testing.T) {
	calls := 0
	h := goamqp.Handler(orderTypes, func(any, goamqp.Headers) (any, error) { calls++; return nil, nil })
	r := warren.NewRouter()
	r.Handle("Order.*", h)

	rec := warrentest.Serve(r, warrentest.NewJSONMessage("Order.Deleted", OrderCreated{ID: "1"}))
	if reason, ok := rec.DeadLettered(); !ok || reason != warren.ReasonNoRoute {
		t.Fatalf("unknown key: %+v, want dead-letter no-route", rec.Outcome)
	}
	rec = warrentest.Serve(r, warrentest.NewMessage("Order.Created", []byte("{not json")))
	if reason, ok := rec.DeadLettered(); !ok || reason != warren.ReasonDecode {
		t.Fatalf("bad body: %+v, want dead-letter decode", rec.Outcome)
	}
	if calls != 0 {
		t.Fatalf("handler ran %d times, want 0", calls)
	}
}

// TestHandlerErrorsSteerSettlement: a plain error is retried (goamqp
// requeued it forever), Permanent dead-letters.
func TestHandlerErrorsSteerSettlement(t *testing.T) {
	fail := errors.New("db down")
	h := goamqp.Handler(orderTypes, func(any, goamqp.Headers) (any, error) { return nil, fail })
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "1"}))
	if !rec.Retried() || !errors.Is(rec.Err, fail) {
		t.Fatalf("plain error: %+v, want retry", rec.Outcome)
	}
	h = goamqp.Handler(orderTypes, func(any, goamqp.Headers) (any, error) { return nil, warren.Permanent(fail) })
	rec = warrentest.Serve(h, warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "1"}))
	if _, ok := rec.DeadLettered(); !ok {
		t.Fatalf("permanent error: %+v, want dead-letter", rec.Outcome)
	}
}

// TestHandlerHeadersAreACopy: changing Headers does not change the message.
func TestHandlerHeadersAreACopy(t *testing.T) {
	msg := warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "1"}, warrentest.WithHeader("service", "orders"))
	h := goamqp.Handler(orderTypes, func(_ any, hs goamqp.Headers) (any, error) {
		hs["service"] = "other"
		return nil, nil
	})
	warrentest.Serve(h, msg)
	if msg.Headers["service"] != "orders" || msg.Headers[goamqp.HeaderRoutingKey] != nil {
		t.Fatalf("message headers changed: %v", msg.Headers)
	}
}

// TestTypesRefusePointers: Types take values; a pointer panics at mount.
func TestTypesRefusePointers(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a pointer type")
		}
	}()
	goamqp.Handler(goamqp.Types{"Order.Created": &OrderCreated{}}, func(any, goamqp.Headers) (any, error) { return nil, nil })
}

type PriceQuery struct {
	SKU string `json:"sku"`
}

type Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

func price(_ context.Context, q PriceQuery) (Price, error) {
	if q.SKU == "" {
		return Price{}, warren.Permanent(errors.New("no sku"))
	}
	return Price{SKU: q.SKU, Cents: 250}, nil
}

// TestRespondGoamqpStyle: a request with a service header and no reply-to
// is answered on the own response exchange, keyed by the route, with the
// single header service=<caller> and the request's correlation id.
func TestRespondGoamqpStyle(t *testing.T) {
	h := goamqp.Responder("pricing", price)
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", PriceQuery{SKU: "a-1"},
		warrentest.WithHeader("service", "shop"), warrentest.WithCorrelationID("c-1")))
	if !rec.Acked() {
		t.Fatalf("outcome %+v, want ack", rec.Outcome)
	}
	pubs := rec.Published()
	if len(pubs) != 1 {
		t.Fatalf("published %d, want 1", len(pubs))
	}
	p := pubs[0]
	if p.Exchange != "pricing.headers.exchange.response" || p.RoutingKey != "Price.Get" {
		t.Fatalf("answer to %q key %q, want pricing.headers.exchange.response / Price.Get", p.Exchange, p.RoutingKey)
	}
	if len(p.Headers) != 1 || p.Headers["service"] != "shop" {
		t.Fatalf("answer headers %v, want exactly service=shop", p.Headers)
	}
	if p.ContentType != "application/json" || p.CorrelationId != "c-1" {
		t.Fatalf("answer content type %q correlation %q", p.ContentType, p.CorrelationId)
	}
	var got Price
	if err := json.Unmarshal(p.Body, &got); err != nil || got != (Price{SKU: "a-1", Cents: 250}) {
		t.Fatalf("answer body %s (%v)", p.Body, err)
	}
}

// TestRespondWarrenStyle: a request with a reply-to gets a warren reply,
// and an error reply when the function fails; nothing goes to the
// response exchange.
func TestRespondWarrenStyle(t *testing.T) {
	h := goamqp.Responder("pricing", price)
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", PriceQuery{SKU: "a-1"},
		warrentest.WithReplyTo("amq.rabbitmq.reply-to.x"), warrentest.WithCorrelationID("c-2"), warrentest.WithHeader("service", "shop")))
	if len(rec.Replies()) != 1 || len(rec.Published()) != 1 || rec.Replies()[0].CorrelationId != "c-2" {
		t.Fatalf("replies %d published %d, want one reply with the correlation id", len(rec.Replies()), len(rec.Published()))
	}
	rec = warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", PriceQuery{},
		warrentest.WithReplyTo("amq.rabbitmq.reply-to.x"), warrentest.WithCorrelationID("c-3")))
	if len(rec.Replies()) != 1 || rec.Replies()[0].Headers[warren.HeaderErrorCode] != warren.CodePermanent {
		t.Fatalf("failed request: replies %v, want one error reply with code permanent", rec.Replies())
	}
}

// TestRespondNobodyToAnswer: a request with neither reply-to nor service
// header is handled and acked with no answer, where goamqp's reply wrapper
// failed and requeued it forever; a failed function sends no answer.
func TestRespondNobodyToAnswer(t *testing.T) {
	h := goamqp.Responder("pricing", price)
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", PriceQuery{SKU: "a-1"}))
	if !rec.Acked() || len(rec.Published()) != 0 {
		t.Fatalf("outcome %+v published %d, want ack and nothing", rec.Outcome, len(rec.Published()))
	}
	rec = warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", PriceQuery{}, warrentest.WithHeader("service", "shop")))
	if _, ok := rec.DeadLettered(); !ok || len(rec.Published()) != 0 {
		t.Fatalf("failed goamqp request: %+v published %d, want dead-letter and no answer", rec.Outcome, len(rec.Published()))
	}
}

// TestRespondRefusesAHugeServiceHeader: the caller's name is bounded.
func TestRespondRefusesAHugeServiceHeader(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	rec := warrentest.Serve(goamqp.Responder("pricing", price), warrentest.NewJSONMessage("Price.Get", PriceQuery{SKU: "a"},
		warrentest.WithHeader("service", string(long))))
	if _, ok := rec.DeadLettered(); !ok || len(rec.Published()) != 0 {
		t.Fatalf("outcome %+v published %d, want dead-letter, no answer", rec.Outcome, len(rec.Published()))
	}
}

// TestWithResponsesAnswersHandlerFuncResults: a HandlerFunc's response
// answers a goamqp request when mounted WithResponses, and is ignored
// without it (as goamqp outside RequestResponseHandler).
func TestWithResponsesAnswersHandlerFuncResults(t *testing.T) {
	fn := func(msg any, _ goamqp.Headers) (any, error) {
		q := msg.(*PriceQuery)
		return Price{SKU: q.SKU, Cents: 1}, nil
	}
	types := goamqp.Types{"Price.Get": PriceQuery{}}
	req := func() *warren.Message {
		return warrentest.NewJSONMessage("Price.Get", PriceQuery{SKU: "b"}, warrentest.WithHeader("service", "shop"))
	}
	rec := warrentest.Serve(goamqp.Handler(types, fn, goamqp.WithResponses("pricing")), req())
	if len(rec.Published()) != 1 || rec.Published()[0].Exchange != goamqp.ResponseExchange("pricing") {
		t.Fatalf("with responses: published %v", rec.Published())
	}
	rec = warrentest.Serve(goamqp.Handler(types, fn), req())
	if len(rec.Published()) != 0 || !rec.Acked() {
		t.Fatalf("without responses: published %d outcome %+v", len(rec.Published()), rec.Outcome)
	}
}
