package rabbitmq

import (
	"context"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// replyCodecs decodes replies by their content type: JSON, and bodies with
// none.
var replyCodecs = warren.NewCodecs()

// Call sends req, encoded as JSON, to service's route and decodes the reply
// into a Resp (by the reply's content type; JSON when it has none). It is
// Requester.Request with types: a handler mounted with
// warren.TypedReply[Req, Resp] answers it. opts adjust the request before it
// is sent (headers, a message id, persistence).
//
// Errors are Request's: a *RemoteError for an error reply, one wrapping
// warren.ErrUnroutable when the service is not there, ErrRequestLost,
// the context's; plus a *warren.DecodeError when the reply does not decode.
func Call[Req, Resp any](ctx context.Context, r *Requester, service, route string, req Req, opts ...func(*amqp.Publishing)) (Resp, error) {
	var resp Resp
	body, err := warren.JSON.Marshal(req)
	if err != nil {
		return resp, fmt.Errorf("warren/rabbitmq: request %s to %s: encode %T: %w", route, service, req, err)
	}
	p := amqp.Publishing{ContentType: warren.JSON.ContentType(), Body: body}
	for _, o := range opts {
		o(&p)
	}
	d, err := r.Request(ctx, service, route, p)
	if err != nil {
		return resp, err
	}
	codec, err := replyCodecs.For(d.ContentType)
	if err == nil {
		err = codec.Unmarshal(d.Body, &resp)
	}
	if err != nil {
		return resp, fmt.Errorf("warren/rabbitmq: reply of %s %s: %w", service, route, &warren.DecodeError{ContentType: d.ContentType, Err: err})
	}
	return resp, nil
}
