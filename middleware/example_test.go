package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/warrentest"
)

func ExampleRecover() {
	r := warren.NewRouter()
	r.Use(middleware.Recover)
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error {
		panic("nil map")
	})

	rec := warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil))
	var pe *warren.PanicError
	fmt.Println(rec.Outcome.Action, errors.As(rec.Err, &pe), pe.Value, len(pe.Stack) > 0)
	// Output: retry true nil map true
}

func ExampleTimeout() {
	r := warren.NewRouter()
	r.Use(middleware.Timeout(10 * time.Millisecond))
	r.HandleFunc("Report.Requested", func(ctx context.Context, _ *warren.Message) error {
		select { // a slow handler that honours its context
		case <-time.After(time.Hour):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})

	rec := warrentest.Serve(r, warrentest.NewMessage("Report.Requested", nil))
	fmt.Println(rec.Outcome.Action, errors.Is(rec.Err, context.DeadlineExceeded))
	fmt.Println(rec.Err)
	// Output:
	// retry true
	// warren/middleware: handler timed out after 10ms
}

func ExampleCorrelationID() {
	r := warren.NewRouter()
	r.Use(middleware.CorrelationID)
	r.HandleFunc("Order.Created", func(ctx context.Context, msg *warren.Message) error {
		return warren.Publish(ctx, &warren.Publishing{Exchange: "events", RoutingKey: "Invoice.Created"})
	})

	rec := warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil, warrentest.WithMessageID("order-17")))
	fmt.Println(rec.Published()[0].RoutingKey, rec.Published()[0].CorrelationId)
	// Output: Invoice.Created order-17
}

type OrderCreated struct {
	ID string `json:"id"`
}

func ExampleDecode() {
	types := middleware.NewTypes(nil)
	middleware.RegisterKey[OrderCreated](types, "Order.Created")
	middleware.RegisterType[OrderCreated](types, "order.created.v1")

	r := warren.NewRouter()
	r.Use(middleware.Decode(types))
	r.HandleFunc("Order.*", func(_ context.Context, msg *warren.Message) error {
		if o, ok := msg.Value.(OrderCreated); ok {
			fmt.Println("order", o.ID)
		}
		return nil
	})

	warrentest.Serve(r, warrentest.NewJSONMessage("Order.Created", OrderCreated{ID: "o-1"}))
	rec := warrentest.Serve(r, warrentest.NewMessage("Order.Created", []byte("{oops")))
	fmt.Println(rec.DeadLettered())
	// Output:
	// order o-1
	// decode true
}
