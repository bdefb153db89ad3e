package rabbitmq

import (
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// RemoteError is a service's error reply: its handler failed and told the
// caller so (see warren.TypedReply and warren.ReplyError). Match it with
// errors.As and branch on Code:
//
//	var re *rabbitmq.RemoteError
//	if errors.As(err, &re) && re.Code == "not-found" { ... }
type RemoteError struct {
	Service string
	Route   string
	// Code is the x-warren-error-code header: warren.CodeError,
	// warren.CodePermanent, warren.CodeDecode, or the handler's own (see
	// warren.ErrorCode).
	Code string
	// Message is the handler's error message (x-warren-error).
	Message string
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("warren/rabbitmq: %s %s failed (%s): %s", e.Service, e.Route, e.Code, e.Message)
}

// remoteError reads an error reply, or returns nil for an ordinary reply.
func remoteError(service, route string, d *amqp.Delivery) *RemoteError {
	code, hasCode := d.Headers[warren.HeaderErrorCode]
	text, hasText := d.Headers[warren.HeaderError]
	if !hasCode && !hasText {
		return nil
	}
	e := &RemoteError{Service: service, Route: route, Code: headerText(code), Message: headerText(text)}
	if e.Code == "" {
		e.Code = warren.CodeError
	}
	return e
}

func headerText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}
