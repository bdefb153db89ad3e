package warren_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/warren-mq/warren"
)

func TestOutcomeOf(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		name   string
		err    error
		action warren.Action
		reason string
	}{
		{"nil", nil, warren.ActionAck, ""},
		{"plain", base, warren.ActionRetry, ""},
		{"wrapped plain", fmt.Errorf("ctx: %w", base), warren.ActionRetry, ""},
		{"permanent", warren.Permanent(base), warren.ActionDeadLetter, warren.ReasonPermanent},
		{"wrapped permanent", fmt.Errorf("outer: %w", warren.Permanent(base)), warren.ActionDeadLetter, warren.ReasonPermanent},
		{"dead-letter reason", warren.DeadLetter("invalid-order", base), warren.ActionDeadLetter, "invalid-order"},
		{"requeue", warren.Requeue(base), warren.ActionRequeue, ""},
		{"drop", fmt.Errorf("x: %w", warren.Drop(base)), warren.ActionDrop, ""},
		{"decode", &warren.DecodeError{ContentType: "application/json", Err: base}, warren.ActionDeadLetter, warren.ReasonDecode},
		{"wrapped decode", fmt.Errorf("x: %w", &warren.DecodeError{Err: base}), warren.ActionDeadLetter, warren.ReasonDecode},
		{"no route", fmt.Errorf("%w %q", warren.ErrNoRoute, "k"), warren.ActionDeadLetter, warren.ReasonNoRoute},
		{"panic", &warren.PanicError{Value: "oops"}, warren.ActionRetry, ""},
		{"deadline", context.DeadlineExceeded, warren.ActionRetry, ""},
		{"marker beats kind", warren.Drop(&warren.DecodeError{Err: base}), warren.ActionDrop, ""},
	}
	for _, c := range cases {
		o := warren.OutcomeOf(c.err)
		if o.Action != c.action || o.Reason != c.reason || o.Err != c.err {
			t.Errorf("%s: OutcomeOf = %+v, want action %v reason %q", c.name, o, c.action, c.reason)
		}
	}
}

func TestOutcomeMarkersKeepTheCause(t *testing.T) {
	base := errors.New("boom")
	for _, err := range []error{warren.Permanent(base), warren.Requeue(base), warren.Drop(base), warren.DeadLetter("r", base)} {
		if !errors.Is(err, base) || err.Error() != "boom" {
			t.Errorf("%T: errors.Is(cause) = %v, Error() = %q", err, errors.Is(err, base), err.Error())
		}
	}
	if !errors.Is(warren.Permanent(base), warren.ErrPermanent) || !errors.Is(warren.Requeue(base), warren.ErrRequeue) ||
		!errors.Is(warren.Drop(base), warren.ErrDrop) || !errors.Is(&warren.DecodeError{}, warren.ErrPermanent) {
		t.Error("sentinels not recognised through errors.Is")
	}
	if warren.Permanent(nil).Error() == "" {
		t.Error("Permanent(nil) has an empty message")
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[warren.Action]string{
		warren.ActionAck: "ack", warren.ActionRetry: "retry", warren.ActionDeadLetter: "dead-letter",
		warren.ActionRequeue: "requeue", warren.ActionDrop: "drop", warren.Action(99): "action(99)",
	} {
		if a.String() != want {
			t.Errorf("%d.String() = %q, want %q", a, a.String(), want)
		}
	}
}
