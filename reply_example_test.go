package warren_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

// A TypedReply handler that fails answers its caller with an error reply;
// ErrorCode chooses the code the caller sees.
func ExampleErrorCode() {
	type Query struct{ SKU string }
	type Price struct{ Cents int }
	h := warren.TypedReply(func(ctx context.Context, q Query) (Price, error) {
		return Price{}, warren.ErrorCode(fmt.Errorf("no price for %s", q.SKU), "not-found")
	})
	rec := warrentest.Serve(h, warrentest.NewJSONMessage("Price.Get", Query{SKU: "Z9"},
		warrentest.WithReplyTo("amq.rabbitmq.reply-to.x"), warrentest.WithCorrelationID("c-1")))
	reply := rec.Replies()[0]
	fmt.Println(reply.CorrelationId, reply.Headers[warren.HeaderErrorCode], reply.Headers[warren.HeaderError])
	fmt.Println(rec.Outcome.Action)
	// Output:
	// c-1 not-found no price for Z9
	// drop
}

// ReplyError answers a request from a handler that is not a TypedReply.
func ExampleReplyError() {
	h := warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
		err := warren.ErrorCode(errors.New("quota exceeded"), "quota")
		if rerr := warren.ReplyError(ctx, m, err); rerr != nil {
			return rerr // not answered: retry
		}
		return warren.Drop(err)
	})
	rec := warrentest.Serve(h, warrentest.NewMessage("Order.Place", nil, warrentest.WithReplyTo("r")))
	fmt.Println(rec.Replies()[0].Headers[warren.HeaderErrorCode], warren.ErrorCodeOf(rec.Err))
	// Output: quota quota
}
