package deadletter_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
	"github.com/warren-mq/warren/warrentest"
)

func ExampleHeaders() {
	msg := warrentest.NewMessage("Order.Created", []byte(`{"id":42}`),
		warrentest.WithExchange("events.topic.exchange"), warrentest.WithQueue("orders"), warrentest.WithAttempt(3))
	msg.Route = "Order.*"

	failedAt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	h := deadletter.Headers(msg, warren.ReasonError, errors.New("payment service down"), failedAt)
	for _, k := range []string{
		warren.HeaderReason, warren.HeaderExceptionMessage, warren.HeaderAttempt,
		warren.HeaderOriginalExchange, warren.HeaderOriginalRoutingKey, warren.HeaderRoute, warren.HeaderQueue, warren.HeaderFailedAt,
	} {
		fmt.Printf("%s: %v\n", k, h[k])
	}
	// Output:
	// x-warren-reason: error
	// x-exception-message: payment service down
	// x-warren-attempt: 3
	// x-original-exchange: events.topic.exchange
	// x-original-routingKey: Order.Created
	// x-warren-route: Order.*
	// x-warren-queue: orders
	// x-warren-failed-at: 2024-05-06 07:08:09 +0000 UTC
}

func ExampleRetryHeaders() {
	msg := warrentest.NewMessage("Order.Created", nil, warrentest.WithExchange("events.topic.exchange"), warrentest.WithAttempt(1))
	h := deadletter.RetryHeaders(msg, errors.New("timeout"), time.Now())
	fmt.Println(h[warren.HeaderAttempt], h[warren.HeaderOriginalRoutingKey], h[warren.HeaderReason] == nil)
	// Output: 2 Order.Created true
}

func ExamplePublishing() {
	msg := warrentest.NewMessage("Order.Created", []byte(`{"id":42}`), warrentest.WithQueue("orders"))
	p := deadletter.Publishing(msg, warren.ReasonDecode, errors.New("unexpected EOF"), time.Now())
	fmt.Printf("exchange %q key %q mandatory %v reason %v\n", p.Exchange, p.RoutingKey, p.Mandatory, p.Headers[warren.HeaderReason])
	// Output: exchange "" key "orders.dlq" mandatory true reason decode
}

func ExampleInspector() {
	conn, err := amqp.Dial("amqp://guest:guest@127.0.0.1:5672/")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	in := deadletter.NewInspector(conn)
	ctx := context.Background()

	entries, err := in.List(ctx, warren.DeadLetterQueue("orders"), deadletter.Filter{Limit: 10, Reason: warren.ReasonError})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.MessageID, e.Attempt, e.Error)
	}

	res, err := in.Replay(ctx, warren.DeadLetterQueue("orders"), deadletter.ReplayOptions{Filter: deadletter.Filter{Reason: warren.ReasonError}})
	fmt.Println(len(res.Replayed), "replayed;", len(res.Failed), "left in the DLQ:", err)
}
