package rabbitmq

import (
	"context"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// giveUpBound is how soon after the give-up everything must have ended.
const giveUpBound = time.Second

// dialThrough dials a client through proxy with opts, closed when the
// test ends.
func dialThrough(t *testing.T, proxy *outageProxy, opts ...Option) *Client {
	t.Helper()
	brokertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, proxy.url(), append([]Option{WithName(brokertest.Name(t, "client"))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestGiveUpEndsEverything: with a retry budget of 3 attempts 100 ms apart
// and an outage that outlasts it, the client becomes done with ErrGaveUp;
// within a second of that, Consumer.Run returns it, a publish waiting for
// recovery fails with it, a later publish fails at once, a request fails,
// the consumer's state says stopped, and an Observer ConnClosed event
// carries the error.
func TestGiveUpEndsEverything(t *testing.T) {
	proxy := startOutageProxy(t)
	log := &connLog{}
	client := dialThrough(t, proxy, WithReconnectInterval(100*time.Millisecond, 3), WithObserver(log))
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- cons.Run(context.Background()) }()
	eventually(t, 10*time.Second, "consumer consuming", func() bool { s, _ := cons.State(); return s == ConsumerConsuming })
	requester := client.NewRequester()
	t.Cleanup(func() { _ = requester.Close() })

	proxy.down()
	inFlight := make(chan error, 1)
	go func() { // waits for recovery, which never comes
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		inFlight <- client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created",
			Publishing: amqp.Publishing{Body: []byte("{}")}})
	}()

	select {
	case <-client.Done():
	case <-time.After(15 * time.Second):
		t.Fatalf("client not done 15 s after the outage began\n%s", log)
	}
	gaveUp := time.Now()
	if err := client.Err(); !errors.Is(err, ErrGaveUp) || !errors.Is(err, ErrClosed) {
		t.Fatalf("Err() = %v, want ErrGaveUp (and ErrClosed)", err)
	}
	t.Logf("gave up: %v", client.Err())

	within := func(what string, ch <-chan error) {
		t.Helper()
		select {
		case err := <-ch:
			if !errors.Is(err, ErrGaveUp) {
				t.Errorf("%s: %v, want ErrGaveUp", what, err)
			}
			t.Logf("%s ended %v after the give-up: %v", what, time.Since(gaveUp).Round(time.Millisecond), err)
		case <-time.After(giveUpBound - time.Since(gaveUp)):
			t.Errorf("%s still running %v after the give-up", what, giveUpBound)
		}
	}
	within("Consumer.Run", runErr)
	within("publish in flight", inFlight)

	later := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		later <- client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created",
			Publishing: amqp.Publishing{Body: []byte("{}")}})
	}()
	gaveUp = time.Now() // a later call: fails at once
	within("later publish", later)
	request := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := requester.Request(ctx, "pricing", "Price.Get", amqp.Publishing{Body: []byte("{}")})
		request <- err
	}()
	gaveUp = time.Now()
	within("request", request)

	if s, err := cons.State(); s != ConsumerStopped || !errors.Is(err, ErrGaveUp) {
		t.Errorf("consumer state %v, %v; want stopped with ErrGaveUp", s, err)
	}
	closedWithErr := log.count(client.Name()+".consume", func(e warren.ConnectionEvent) bool {
		return e.State == warren.ConnClosed && errors.Is(e.Err, ErrGaveUp)
	})
	if closedWithErr != 1 {
		t.Errorf("%d ConnClosed events with ErrGaveUp for the consume connection, want 1\n%s", closedWithErr, log)
	}
	if err := client.Close(); err != nil {
		t.Errorf("Close after a give-up: %v", err)
	}
	if !errors.Is(client.Err(), ErrGaveUp) {
		t.Errorf("after Close, Err() = %v, want still ErrGaveUp", client.Err())
	}
}

// TestShortOutageRecovers: an outage shorter than the retry budget is
// recovered: a publish made during it waits and is confirmed, the consumer
// consumes again (a message published after the outage is handled), and
// the client is not done.
func TestShortOutageRecovers(t *testing.T) {
	proxy := startOutageProxy(t)
	client := dialThrough(t, proxy, WithReconnectInterval(100*time.Millisecond, 50))
	spec := testSpec(t)
	handled := make(chan string, 4)
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(_ context.Context, m *warren.Message) error { handled <- m.MessageID; return nil })
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	eventually(t, 10*time.Second, "consumer consuming", func() bool { s, _ := cons.State(); return s == ConsumerConsuming })

	proxy.down()
	eventually(t, 5*time.Second, "consumer recovering", func() bool { s, _ := cons.State(); return s != ConsumerConsuming })
	published := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		published <- client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Order.Created",
			Publishing: amqp.Publishing{MessageId: "during", Body: []byte("{}")}})
	}()
	time.Sleep(time.Second) // the outage: 10 attempts' worth, a third of the budget
	proxy.up(t)
	if err := <-published; err != nil {
		t.Fatalf("publish during the outage: %v", err)
	}
	select {
	case id := <-handled:
		if id != "during" {
			t.Fatalf("handled %q, want the message published during the outage", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the consumer did not resume")
	}
	select {
	case <-client.Done():
		t.Fatalf("client done after a short outage: %v", client.Err())
	default:
	}
	if s, _ := cons.State(); s != ConsumerConsuming {
		t.Fatalf("consumer %v after recovery, want consuming", s)
	}
}

// TestMaxRetriesIsExact: WithReconnect(..., 3) makes exactly 3 dials in an
// outage that outlasts them, then gives up (it made 4).
func TestMaxRetriesIsExact(t *testing.T) {
	proxy := startOutageProxy(t)
	log := &connLog{}
	client := dialThrough(t, proxy, WithReconnect(20*time.Millisecond, 50*time.Millisecond, 3), WithObserver(log), WithSharedConnection())
	proxy.down()
	eventually(t, 10*time.Second, "recovery gave up", func() bool {
		return log.count(client.Name(), func(e warren.ConnectionEvent) bool { return e.State == warren.ConnClosed && e.Err != nil }) == 1
	})
	attempts := log.count(client.Name(), func(e warren.ConnectionEvent) bool { return e.State == warren.ConnDown && e.Attempt > 0 })
	if attempts != 3 {
		t.Fatalf("%d dials before giving up, want 3\n%s", attempts, log)
	}
}
