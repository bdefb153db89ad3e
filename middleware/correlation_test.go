package middleware_test

import (
	"context"
	"errors"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/warrentest"
)

// publishing returns a handler that publishes ps and replies once.
func publishing(seen *string, ps ...*warren.Publishing) warren.Handler {
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		*seen = msg.CorrelationID
		for _, p := range ps {
			if err := warren.Publish(ctx, p); err != nil {
				return err
			}
		}
		return warren.Reply(ctx, msg, amqp.Publishing{Body: []byte("ok")})
	})
}

func TestCorrelationIDFromMessageID(t *testing.T) {
	var seen string
	p := &warren.Publishing{Exchange: "events", RoutingKey: "Order.Shipped"}
	msg := warrentest.NewMessage("Order.Created", nil, warrentest.WithMessageID("m-1"), warrentest.WithReplyTo("rq"))
	rec := warrentest.Serve(middleware.CorrelationID(publishing(&seen, p)), msg)
	if rec.Err != nil {
		t.Fatal(rec.Err)
	}
	if seen != "m-1" {
		t.Errorf("handler saw correlation id %q, want the message id m-1", seen)
	}
	pubs := rec.Published()
	if len(pubs) != 2 {
		t.Fatalf("published %d messages, want 2", len(pubs))
	}
	for _, got := range pubs {
		if got.CorrelationId != "m-1" {
			t.Errorf("publish to %q/%q has correlation id %q, want m-1", got.Exchange, got.RoutingKey, got.CorrelationId)
		}
	}
	if p.CorrelationId != "" {
		t.Errorf("the caller's Publishing was modified: correlation id %q", p.CorrelationId)
	}
}

func TestCorrelationIDKeepsExisting(t *testing.T) {
	var seen string
	own := &warren.Publishing{RoutingKey: "svc.request", Publishing: amqp.Publishing{CorrelationId: "req-9"}}
	plain := &warren.Publishing{RoutingKey: "Order.Shipped"}
	msg := warrentest.NewMessage("Order.Created", nil, warrentest.WithCorrelationID("c-7"))
	rec := warrentest.Serve(middleware.CorrelationID(publishing(&seen, own, plain)), msg)
	if seen != "c-7" {
		t.Errorf("handler saw %q, want the message's own c-7", seen)
	}
	pubs := rec.Published()
	if len(pubs) != 2 || pubs[0].CorrelationId != "req-9" || pubs[1].CorrelationId != "c-7" {
		t.Fatalf("published %+v, want req-9 kept and c-7 stamped", pubs)
	}
}

func TestCorrelationIDWithoutAnyID(t *testing.T) {
	var seen string
	msg := warrentest.NewMessage("a", nil, warrentest.WithMessageID(""))
	rec := warrentest.Serve(middleware.CorrelationID(publishing(&seen, &warren.Publishing{RoutingKey: "b"})), msg)
	if rec.Err != nil || seen != "" || rec.Published()[0].CorrelationId != "" {
		t.Fatalf("err %v, seen %q, published %+v: want everything unchanged", rec.Err, seen, rec.Published())
	}
}

func TestCorrelationIDWithoutPublisher(t *testing.T) {
	var seen string
	h := middleware.CorrelationID(publishing(&seen, &warren.Publishing{RoutingKey: "b"}))
	err := h.ServeMessage(context.Background(), warrentest.NewMessage("a", nil, warrentest.WithMessageID("m-2")))
	if !errors.Is(err, warren.ErrNoPublisher) || seen != "m-2" {
		t.Fatalf("err = %v, seen %q; want ErrNoPublisher and m-2", err, seen)
	}
}
