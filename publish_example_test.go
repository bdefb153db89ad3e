package warren_test

import (
	"context"
	"fmt"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

// A handler publishes through the publisher of its context: the transport's
// confirming publisher in production, a recorder in tests. PublisherFunc
// makes one from a function.
func ExamplePublish() {
	pub := warren.PublisherFunc(func(ctx context.Context, p *warren.Publishing) error {
		fmt.Println("publish", p.Exchange, p.RoutingKey, string(p.Body))
		return nil
	})
	ctx := warren.ContextWithPublisher(context.Background(), pub)
	err := warren.Publish(ctx, &warren.Publishing{
		Exchange:   warren.EventExchange,
		RoutingKey: "Order.Shipped",
		Publishing: amqp.Publishing{Body: []byte("o-1")},
	})
	fmt.Println(err)
	// Output:
	// publish events.topic.exchange Order.Shipped o-1
	// <nil>
}

// Reply answers a request: to its ReplyTo queue, with its correlation id.
func ExampleReply() {
	h := warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
		return warren.Reply(ctx, m, amqp.Publishing{ContentType: "text/plain", Body: []byte("pong")})
	})
	rec := warrentest.Serve(h, warrentest.NewMessage("ping", nil,
		warrentest.WithReplyTo("caller.replies"), warrentest.WithCorrelationID("c-1")))
	r := rec.Replies()[0]
	fmt.Println(r.RoutingKey, r.CorrelationId, string(r.Body))
	// Output: caller.replies c-1 pong
}

// NewMessageID gives a message an id unique across processes.
func ExampleNewMessageID() {
	a, b := warren.NewMessageID(), warren.NewMessageID()
	fmt.Println(a != b)
	// Output: true
}

// csv is a Codec for one more content type.
type csv struct{}

func (csv) ContentType() string { return "text/csv" }
func (csv) Marshal(v any) ([]byte, error) {
	return []byte(strings.Join(v.([]string), ",")), nil
}
func (csv) Unmarshal(data []byte, v any) error {
	*(v.(*[]string)) = strings.Split(string(data), ",")
	return nil
}

// WithCodecs makes a typed handler decode other content types than JSON.
func ExampleWithCodecs() {
	h := warren.Typed(func(ctx context.Context, fields []string) error {
		fmt.Println(len(fields), fields[0])
		return nil
	}, warren.WithCodecs(warren.NewCodecs(csv{})))
	warrentest.Serve(h, warrentest.NewMessage("Import.Row", []byte("sku-1,3,1299"), warrentest.WithContentType("text/csv")))
	// Output: 3 sku-1
}
