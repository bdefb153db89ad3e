package middleware

import (
	"context"

	"github.com/warren-mq/warren"
)

// CorrelationID gives a message without a correlation id its message id as
// one, and stamps that id on everything the handler publishes:
//
//	r := warren.NewRouter()
//	r.Use(middleware.CorrelationID)
//
// It sets msg.CorrelationID, so middleware and handlers inside it (logging,
// tracing, warren.Reply) see the id, and wraps the context's Publisher
// (warren.Publish, warren.Reply, any middleware publishing through the
// context) so that a Publishing with an empty CorrelationId gets the
// message's. A Publishing that has a correlation id of its own keeps it (a
// request the handler sends awaits its own reply), and the caller's
// Publishing is never modified: the publisher receives a copy. A message
// with neither a correlation id nor a message id passes through unchanged.
//
// Mount it before the logging middleware, so log lines carry the id.
func CorrelationID(next warren.Handler) warren.Handler {
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
		if msg.CorrelationID == "" {
			msg.CorrelationID = msg.MessageID
		}
		if msg.CorrelationID != "" {
			if pub := warren.PublisherFromContext(ctx); pub != nil {
				ctx = warren.ContextWithPublisher(ctx, &correlatingPublisher{next: pub, id: msg.CorrelationID})
			}
		}
		return next.ServeMessage(ctx, msg)
	})
}

type correlatingPublisher struct {
	next warren.Publisher
	id   string
}

func (p *correlatingPublisher) Publish(ctx context.Context, pub *warren.Publishing) error {
	if pub.CorrelationId != "" {
		return p.next.Publish(ctx, pub)
	}
	c := *pub
	c.CorrelationId = p.id
	return p.next.Publish(ctx, &c)
}
