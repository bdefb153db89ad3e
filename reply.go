package warren

import (
	"context"
	"errors"
	"github.com/warren-mq/warren/internal/redact"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Reply publishes a reply to msg: to its ReplyTo queue through the default
// exchange, with msg's correlation id (its message id when it has none).
// A request without ReplyTo asked for no answer: Reply does nothing and
// returns nil.
func Reply(ctx context.Context, msg *Message, reply amqp.Publishing) error {
	if msg.ReplyTo == "" {
		return nil
	}
	reply.CorrelationId = msg.CorrelationID
	if reply.CorrelationId == "" {
		reply.CorrelationId = msg.MessageID
	}
	return Publish(ctx, &Publishing{RoutingKey: msg.ReplyTo, Publishing: reply})
}

// ReplyError publishes an error reply to msg, so that its caller learns of
// the failure at once instead of waiting out its deadline: an empty,
// transient message to msg's ReplyTo with its correlation id (as Reply),
// carrying err's message in the x-warren-error header (cut to
// MaxHeaderValue) and its code (ErrorCodeOf) in x-warren-error-code.
// Like Reply, it does nothing for a request without ReplyTo.
func ReplyError(ctx context.Context, msg *Message, err error) error {
	text, code := "unknown error", CodeError
	if err != nil {
		text, code = redact.Text(err.Error()), ErrorCodeOf(err)
	}
	return Reply(ctx, msg, amqp.Publishing{
		Headers: amqp.Table{
			HeaderError:     BoundedString(text, MaxHeaderValue),
			HeaderErrorCode: BoundedString(code, MaxHeaderValue),
		},
		DeliveryMode: amqp.Transient,
	})
}

// Codes of error replies, written to the x-warren-error-code header (see
// ReplyError). A handler chooses its own with ErrorCode; these are the
// codes warren picks when it did not.
const (
	CodeError     = "error"     // any error without a code of its own
	CodePermanent = "permanent" // Permanent(err)
	CodeDecode    = "decode"    // the request body did not decode
)

// ErrorCode attaches code to err for the caller of a request: when a
// TypedReply handler fails, the error reply carries code in the
// x-warren-error-code header, and the requester's *RemoteError has it. Keep
// codes few and stable ("not-found", "invalid", "conflict"): callers branch
// on them.
//
//	return Price{}, warren.ErrorCode(fmt.Errorf("no sku %q", q.SKU), "not-found")
//
// The code changes nothing else: settlement, errors.Is and errors.As see
// through it. ErrorCode(nil, code) is nil.
func ErrorCode(err error, code string) error {
	if err == nil {
		return nil
	}
	return &codedError{err: err, code: code}
}

// ErrorCodeOf returns the code an error reply for err carries: the
// outermost code attached with ErrorCode; otherwise, for an error that
// dead-letters at once, its reason (CodePermanent, CodeDecode, or the
// reason given to DeadLetter); otherwise CodeError. It returns "" for nil.
func ErrorCodeOf(err error) string {
	if err == nil {
		return ""
	}
	var ce *codedError
	if errors.As(err, &ce) && ce.code != "" {
		return ce.code
	}
	if o := OutcomeOf(err); o.Action == ActionDeadLetter && o.Reason != "" {
		return o.Reason
	}
	return CodeError
}

type codedError struct {
	err  error
	code string
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }
