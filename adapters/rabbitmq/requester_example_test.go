package rabbitmq_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

type PriceQuery struct{ SKU string }

type Price struct {
	SKU   string
	Cents int
}

// A service answers queries on its request queue: TypedReply publishes the
// result, or an error reply, to the caller.
func ExampleRequests() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/", rabbitmq.WithName("pricing"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	r := warren.NewRouter()
	r.Handle("Price.Get", warren.TypedReply(func(ctx context.Context, q PriceQuery) (Price, error) {
		if q.SKU == "" {
			return Price{}, warren.ErrorCode(errors.New("no sku"), "invalid")
		}
		return Price{SKU: q.SKU, Cents: 1299}, nil
	}))
	// Declares pricing.direct.exchange.request and its queue, bound to Price.Get.
	c, err := client.NewConsumer(context.Background(), r, rabbitmq.Requests("pricing"))
	if err != nil {
		log.Fatal(err)
	}
	_ = c.Run(ctx) // until ctx is cancelled
}

// A caller sends a query and waits for the typed reply.
func ExampleCall() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/", rabbitmq.WithName("orders"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	requester := client.NewRequester()
	defer requester.Close()

	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	price, err := rabbitmq.Call[PriceQuery, Price](ctx, requester, "pricing", "Price.Get", PriceQuery{SKU: "A1"})
	var remote *rabbitmq.RemoteError
	switch {
	case errors.As(err, &remote):
		fmt.Println("pricing said no:", remote.Code, remote.Message)
	case errors.Is(err, warren.ErrUnroutable):
		fmt.Println("pricing is not running")
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Println("pricing did not answer in time")
	case err != nil:
		fmt.Println("request failed:", err)
	default:
		fmt.Println(price.SKU, price.Cents)
	}
}

// Request sends an encoded body of any content type and returns the raw
// reply.
func ExampleRequester_Request() {
	ctx := context.Background()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	requester := client.NewRequester(rabbitmq.WithCallTimeout(5 * time.Second))
	defer requester.Close()

	reply, err := requester.Request(ctx, "pricing", "Price.Get", amqp.Publishing{
		ContentType: "application/json",
		Body:        []byte(`{"SKU":"A1"}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.ContentType, string(reply.Body))
}
