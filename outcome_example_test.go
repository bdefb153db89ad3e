package warren_test

import (
	"errors"
	"fmt"

	"github.com/warren-mq/warren"
)

// DeadLetter dead-letters at once with a reason of the handler's choosing,
// written to the x-warren-reason header. errors.Is still sees the cause.
func ExampleDeadLetter() {
	errFraud := errors.New("card flagged")
	err := warren.DeadLetter("fraud", fmt.Errorf("order o-1: %w", errFraud))
	o := warren.OutcomeOf(err)
	fmt.Println(o.Action, o.Reason, errors.Is(err, errFraud), errors.Is(err, warren.ErrPermanent))
	// Output: dead-letter fraud true true
}

// countSettled is an Observer that counts settlements by action.
type countSettled struct {
	warren.NopObserver
	byAction map[warren.Action]int
}

func (c *countSettled) ObserveSettle(e warren.SettleEvent) { c.byAction[e.Action]++ }

// Observers fans the transport's events out to several observers; embedding
// NopObserver implements the events an observer does not care about.
func ExampleObservers() {
	a := &countSettled{byAction: map[warren.Action]int{}}
	b := &countSettled{byAction: map[warren.Action]int{}}
	var o warren.Observer = warren.Observers{a, b}
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionAck})
	o.ObserveSettle(warren.SettleEvent{Queue: "orders", Route: "Order.*", Action: warren.ActionDeadLetter, Reason: "decode"})
	o.ObserveRetry(warren.RetryEvent{Queue: "orders", Route: "Order.*", Attempt: 1})
	fmt.Println(a.byAction[warren.ActionAck], a.byAction[warren.ActionDeadLetter], b.byAction[warren.ActionAck])
	// Output: 1 1 1
}
