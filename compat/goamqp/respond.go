package goamqp

import (
	"context"
	"encoding/json"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// maxServiceName bounds the service header a request may carry: it becomes
// a header of the answer and a binding argument on the caller's side.
const maxServiceName = 255

// Respond answers the request msg with v, encoded as JSON, the way its
// caller expects:
//
//   - a request with a reply-to (a warren caller) is answered the warren
//     way: warren.Reply, to the reply-to with the correlation id;
//   - a request with no reply-to but a `service` header (a goamqp caller)
//     is answered the goamqp way: published to service's own
//     ResponseExchange with the request's routing key and the single header
//     service=<caller>, and the request's correlation id if it had one
//     (goamqp's callers ignore it; a Caller uses it to match exactly);
//   - a request with neither asked for no answer: Respond does nothing.
//
// service is the answering service's own name. Its response exchange must
// exist (declare ResponseTopology at start). The answer goes through the
// context's publisher, so the request is acked only after the broker
// confirmed it.
func Respond(ctx context.Context, service string, msg *warren.Message, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return warren.Permanent(fmt.Errorf("goamqp: encode the answer: %w", err))
	}
	answer := amqp.Publishing{
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		Body:         body,
	}
	if msg.ReplyTo != "" {
		return warren.Reply(ctx, msg, answer)
	}
	caller, ok := warren.HeaderString(msg.Headers, HeaderService)
	if !ok || caller == "" {
		return nil
	}
	if len(caller) > maxServiceName {
		return warren.Permanent(fmt.Errorf("goamqp: service header of %d bytes, at most %d", len(caller), maxServiceName))
	}
	answer.Headers = amqp.Table{HeaderService: caller}
	answer.CorrelationId = msg.CorrelationID
	return warren.Publish(ctx, &warren.Publishing{
		Exchange:   ResponseExchange(service),
		RoutingKey: msg.RoutingKey,
		Publishing: answer,
	})
}

// Responder is warren.TypedReply for callers of both kinds. A request with
// a reply-to (a warren caller) is served by warren.TypedReply: the answer or
// an error reply goes to the reply-to. Any other request is answered through
// Respond: a goamqp caller (service header, no reply-to) gets fn's result on
// service's response exchange; a failed fn sends it nothing (goamqp has no
// error answers) and its error steers settlement. service is the answering
// service's own name.
//
//	r.Handle("Price.Get", goamqp.Responder("pricing", func(ctx context.Context, q PriceQuery) (Price, error) { ... }))
func Responder[T, R any](service string, fn func(ctx context.Context, v T) (R, error)) warren.Handler {
	warrenStyle := warren.TypedReply(fn)
	goamqpStyle := warren.Typed(func(ctx context.Context, v T) error {
		r, err := fn(ctx, v)
		if err != nil {
			return err
		}
		msg := warren.MessageFromContext(ctx)
		if msg == nil {
			return fmt.Errorf("goamqp: Responder: no message in the context")
		}
		return Respond(ctx, service, msg, r)
	})
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		if msg.ReplyTo != "" {
			return warrenStyle.ServeMessage(ctx, msg)
		}
		return goamqpStyle.ServeMessage(ctx, msg)
	})
}
