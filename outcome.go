package warren

import (
	"errors"
	"fmt"
)

// Action is what the transport does with a message once its handler has
// returned.
type Action uint8

const (
	// ActionAck acknowledges the message: it is done.
	ActionAck Action = iota
	// ActionRetry means the handler failed and may succeed later: the
	// transport retries while its retry policy has attempts left, and
	// dead-letters with reason "error" when it has none.
	ActionRetry
	// ActionDeadLetter republishes the message to its dead-letter queue with
	// the reason headers, waits for the confirm, then acks; if that publish
	// fails it nacks without requeue so the queue's own dead-letter exchange
	// takes it.
	ActionDeadLetter
	// ActionRequeue nacks with requeue=true, up to a limit after which the
	// message is dead-lettered with reason "requeue-limit".
	ActionRequeue
	// ActionDrop acknowledges the message and counts it as dropped.
	ActionDrop
)

// String returns the action's name as used in logs and metric labels.
func (a Action) String() string {
	switch a {
	case ActionAck:
		return "ack"
	case ActionRetry:
		return "retry"
	case ActionDeadLetter:
		return "dead-letter"
	case ActionRequeue:
		return "requeue"
	case ActionDrop:
		return "drop"
	default:
		return fmt.Sprintf("action(%d)", uint8(a))
	}
}

// Reasons a message is dead-lettered, written to the x-warren-reason header.
const (
	ReasonError        = "error"         // retries exhausted
	ReasonPermanent    = "permanent"     // the handler returned Permanent(err)
	ReasonNoRoute      = "no-route"      // no route matched the routing key
	ReasonDecode       = "decode"        // the body did not decode
	ReasonRequeueLimit = "requeue-limit" // Requeue(err) returned too often
)

// Outcome is the settlement a handler's result asks for.
type Outcome struct {
	Action Action
	// Reason is set for ActionDeadLetter.
	Reason string
	// Err is the handler's error, nil for a plain ack.
	Err error
}

// Sentinels that errors.Is recognises in errors built by Permanent,
// DeadLetter, Requeue and Drop.
var (
	ErrPermanent = errors.New("warren: permanent failure")
	ErrRequeue   = errors.New("warren: requeue")
	ErrDrop      = errors.New("warren: drop")
	// ErrNoRoute is returned by the default NotFound handler.
	ErrNoRoute = errors.New("warren: no route for routing key")
)

type outcomeError struct {
	action Action
	reason string
	err    error
}

func (e *outcomeError) Error() string {
	if e.err == nil {
		return e.sentinel().Error()
	}
	return e.err.Error()
}

func (e *outcomeError) Unwrap() error { return e.err }

func (e *outcomeError) Is(target error) bool { return target == e.sentinel() }

func (e *outcomeError) sentinel() error {
	switch e.action {
	case ActionRequeue:
		return ErrRequeue
	case ActionDrop:
		return ErrDrop
	default:
		return ErrPermanent
	}
}

// Permanent marks err as a failure that retrying cannot fix: the message is
// dead-lettered at once with reason "permanent".
func Permanent(err error) error {
	return &outcomeError{action: ActionDeadLetter, reason: ReasonPermanent, err: err}
}

// DeadLetter is Permanent with a reason of the caller's choosing, written to
// the x-warren-reason header. Keep reasons few and fixed: they are metric
// labels.
func DeadLetter(reason string, err error) error {
	return &outcomeError{action: ActionDeadLetter, reason: reason, err: err}
}

// Requeue asks for the message to go back to its queue (nack with
// requeue=true). The transport bounds how often: past its limit the message
// is dead-lettered with reason "requeue-limit".
func Requeue(err error) error {
	return &outcomeError{action: ActionRequeue, err: err}
}

// Drop acknowledges the message without handling it; it is logged and
// counted as dropped.
func Drop(err error) error {
	return &outcomeError{action: ActionDrop, err: err}
}

// DecodeError reports a body that could not be decoded. It is permanent:
// the message is dead-lettered with reason "decode".
type DecodeError struct {
	ContentType string
	Err         error
}

// Error implements error.
func (e *DecodeError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("warren: decode (%s): %v", ct, e.Err)
}

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPermanent) true for decode failures.
func (e *DecodeError) Is(target error) bool { return target == ErrPermanent }

// OutcomeOf maps a handler's result to the settlement the transport must
// perform. Wrapped errors are recognised (errors.As); a marker made by Drop,
// Requeue, Permanent or DeadLetter wins over the kind of error it wraps:
//
//	nil                          ack
//	Drop(err)                    drop (ack, counted)
//	Requeue(err)                 requeue (bounded)
//	Permanent(err)               dead-letter, reason "permanent"
//	DeadLetter(reason, err)      dead-letter, that reason
//	*DecodeError                 dead-letter, reason "decode"
//	ErrNoRoute                   dead-letter, reason "no-route"
//	any other error              retry (then dead-letter, reason "error")
//
// A context cancelled by the transport's own shutdown is the transport's to
// recognise: it requeues whatever the handler returned.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Outcome{Action: ActionAck}
	}
	var oe *outcomeError
	var de *DecodeError
	switch {
	case errors.As(err, &oe):
		return Outcome{Action: oe.action, Reason: oe.reason, Err: err}
	case errors.As(err, &de):
		return Outcome{Action: ActionDeadLetter, Reason: ReasonDecode, Err: err}
	case errors.Is(err, ErrNoRoute):
		return Outcome{Action: ActionDeadLetter, Reason: ReasonNoRoute, Err: err}
	default:
		return Outcome{Action: ActionRetry, Err: err}
	}
}
