package warren_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

type orderCreated struct {
	ID    string `json:"id"`
	Total int    `json:"total"`
}

func TestTypedDecodesJSON(t *testing.T) {
	var got orderCreated
	var sawMsg *warren.Message
	h := warren.Typed(func(ctx context.Context, o orderCreated) error {
		got = o
		sawMsg = warren.MessageFromContext(ctx)
		return nil
	})
	for _, ct := range []string{"", "application/json", "application/json; charset=utf-8", "application/vnd.order+json", "Application/JSON"} {
		got = orderCreated{}
		msg := warrentest.NewMessage("Order.Created", []byte(`{"id":"o-1","total":42}`), warrentest.WithContentType(ct))
		rec := warrentest.Serve(h, msg)
		if !rec.Acked() || got != (orderCreated{"o-1", 42}) || sawMsg != msg {
			t.Errorf("content type %q: outcome %v err %v value %+v", ct, rec.Outcome.Action, rec.Err, got)
		}
	}
}

func TestTypedDecodeFailureDeadLetters(t *testing.T) {
	called := false
	h := warren.Typed(func(context.Context, orderCreated) error { called = true; return nil })
	for name, msg := range map[string]*warren.Message{
		"malformed json":  warrentest.NewMessage("k", []byte(`{"id":`)),
		"wrong shape":     warrentest.NewMessage("k", []byte(`[1,2]`)),
		"unknown content": warrentest.NewMessage("k", []byte(`<x/>`), warrentest.WithContentType("application/xml")),
	} {
		rec := warrentest.Serve(h, msg)
		reason, ok := rec.DeadLettered()
		var de *warren.DecodeError
		if !ok || reason != warren.ReasonDecode || !errors.As(rec.Err, &de) {
			t.Errorf("%s: outcome %+v, want dead-letter reason decode", name, rec.Outcome)
		}
	}
	if called {
		t.Error("handler was called with an undecodable body")
	}
}

type upperCodec struct{}

func (upperCodec) ContentType() string { return "text/upper" }
func (upperCodec) Marshal(v any) ([]byte, error) {
	return []byte(strings.ToUpper(*v.(*string))), nil
}
func (upperCodec) Unmarshal(data []byte, v any) error {
	*(v.(*string)) = strings.ToLower(string(data))
	return nil
}

func TestTypedCustomCodec(t *testing.T) {
	var got string
	h := warren.Typed(func(_ context.Context, s string) error { got = s; return nil },
		warren.WithCodecs(warren.NewCodecs(upperCodec{})))
	rec := warrentest.Serve(h, warrentest.NewMessage("k", []byte("HELLO"), warrentest.WithContentType("text/upper")))
	if !rec.Acked() || got != "hello" {
		t.Fatalf("outcome %v got %q", rec.Outcome.Action, got)
	}
}

func TestTypedUsesPredecodedValue(t *testing.T) {
	h := warren.Typed(func(_ context.Context, o orderCreated) error {
		if o.ID != "pre" {
			return errors.New("decoded again")
		}
		return nil
	})
	msg := warrentest.NewMessage("k", []byte("not json"))
	msg.Value = orderCreated{ID: "pre"}
	if rec := warrentest.Serve(h, msg); !rec.Acked() {
		t.Fatalf("outcome %+v", rec.Outcome)
	}
}

type priceQuery struct{ SKU string }
type priceReply struct {
	SKU   string
	Cents int
}

func TestTypedReplyPublishesToReplyTo(t *testing.T) {
	h := warren.TypedReply(func(_ context.Context, q priceQuery) (priceReply, error) {
		return priceReply{SKU: q.SKU, Cents: 1299}, nil
	})
	msg := warrentest.NewJSONMessage("pricing.query", priceQuery{SKU: "A1"},
		warrentest.WithReplyTo("amq.rabbitmq.reply-to.abc"), warrentest.WithCorrelationID("c-7"))
	rec := warrentest.Serve(h, msg)
	replies := rec.Replies()
	if !rec.Acked() || len(replies) != 1 {
		t.Fatalf("outcome %v, %d replies", rec.Outcome.Action, len(replies))
	}
	r := replies[0]
	var body priceReply
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if r.RoutingKey != "amq.rabbitmq.reply-to.abc" || r.CorrelationId != "c-7" || r.ContentType != "application/json" ||
		body != (priceReply{"A1", 1299}) {
		t.Fatalf("reply %+v body %+v", r, body)
	}
}

func TestTypedReplyCorrelatesByMessageIDAndSkipsWithoutReplyTo(t *testing.T) {
	h := warren.TypedReply(func(context.Context, priceQuery) (priceReply, error) { return priceReply{}, nil })
	msg := warrentest.NewJSONMessage("q", priceQuery{}, warrentest.WithReplyTo("r"), warrentest.WithMessageID("m-1"))
	if r := warrentest.Serve(h, msg).Replies(); len(r) != 1 || r[0].CorrelationId != "m-1" {
		t.Fatalf("replies %+v", r)
	}
	if rec := warrentest.Serve(h, warrentest.NewJSONMessage("q", priceQuery{})); !rec.Acked() || len(rec.Published()) != 0 {
		t.Fatalf("no reply_to: outcome %v published %d", rec.Outcome.Action, len(rec.Published()))
	}
}

func TestTypedReplyErrorsAndFailedPublish(t *testing.T) {
	boom := errors.New("boom")
	h := warren.TypedReply(func(context.Context, priceQuery) (priceReply, error) { return priceReply{}, boom })
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("q", priceQuery{}, warrentest.WithReplyTo("r")))
	// The caller is told (an error reply) and the request is dropped, not
	// retried: see TypedReply. reply_test.go covers the error reply itself.
	if !rec.Dropped() || !errors.Is(rec.Err, boom) || len(rec.Replies()) != 1 {
		t.Fatalf("handler error: outcome %v err %v, %d replies", rec.Outcome.Action, rec.Err, len(rec.Replies()))
	}

	ok := warren.TypedReply(func(context.Context, priceQuery) (priceReply, error) { return priceReply{}, nil })
	failing := warrentest.NewRecorder()
	failing.PublishErr = errors.New("channel closed")
	failing.Serve(context.Background(), ok, warrentest.NewJSONMessage("q", priceQuery{}, warrentest.WithReplyTo("r")))
	if !failing.Retried() {
		t.Fatalf("failed reply publish: outcome %v, want retry (never ack an unanswered request)", failing.Outcome.Action)
	}

	noPub := ok.ServeMessage(context.Background(), warrentest.NewJSONMessage("q", priceQuery{}, warrentest.WithReplyTo("r")))
	if !errors.Is(noPub, warren.ErrNoPublisher) {
		t.Fatalf("no publisher in context: err %v", noPub)
	}
}
