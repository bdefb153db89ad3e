package rabbitmq_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/health"
)

// ExampleClient_Done wires a client's lifecycle into a service: Dial waits
// up to a minute for the broker (a service may start first), the probes go
// on the service's HTTP mux, and the service exits when recovery gives up.
func ExampleClient_Done() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, "amqp://guest:guest@localhost:5672/",
		rabbitmq.WithName("shipping"),
		rabbitmq.WithReconnect(100*time.Millisecond, 10*time.Second, 30), // then give up
		rabbitmq.WithPublishTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err) // says how many attempts and the last cause
	}
	defer func() { _ = client.Close() }()

	mux := http.NewServeMux()
	mux.Handle("/livez", health.Handler(client))
	mux.Handle("/readyz", health.Handler(client))
	go func() { _ = http.ListenAndServe(":8080", mux) }()

	<-client.Done()
	log.Printf("rabbitmq: %v", client.Err()) // errors.Is(err, rabbitmq.ErrGaveUp) after a give-up
}
