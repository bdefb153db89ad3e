package goamqp

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	compat "github.com/warren-mq/warren/compat/goamqp"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// warrenPriceService runs a warren service answering Price.Get through
// compat.Responder; when gate is not nil, each request signals entered
// and waits for gate before it is answered.
func warrenPriceService(t *testing.T, service string, entered chan<- struct{}, gate <-chan struct{}) {
	t.Helper()
	deleteExchanges(t, RequestExchange(service), ResponseExchange(service))
	client := dialWarren(t, service)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Declare(ctx, compat.ResponseTopology(service)); err != nil {
		t.Fatal(err)
	}
	r := warren.NewRouter()
	r.Handle("Price.Get", compat.Responder(service, func(ctx context.Context, q PriceQuery) (Price, error) {
		if gate != nil {
			entered <- struct{}{}
			select {
			case <-gate:
			case <-ctx.Done():
				return Price{}, ctx.Err()
			}
		}
		return Price{SKU: q.SKU, Cents: cents(q.SKU)}, nil
	}))
	newConsumer(t, client, r, rabbitmq.Requests(service))
}

// TestCallerDropsAnAnswerForAnotherCall: an answer on the call's route that
// names another call's correlation id (a late answer to a timed-out call,
// from a responder that echoes ids) is not taken: the call gets its own.
func TestCallerDropsAnAnswerForAnotherCall(t *testing.T) {
	service := brokertest.Name(t, "wr-price")
	caller := brokertest.Name(t, "wr-shop")
	deleteQueues(t, ResponseQueue(service, caller))
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	warrenPriceService(t, service, entered, gate)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := compat.NewCaller(ctx, dialWarren(t, caller), service)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	got := make(chan error, 1)
	var answer Price
	go func() { got <- c.Call(ctx, "Price.Get", PriceQuery{SKU: "mine"}, &answer) }()

	// While the service holds the request (so the call is bound and
	// waiting), a stale answer for another call reaches the caller's queue
	// first.
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the request never reached the service")
	}
	ch := brokertest.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	stale, _ := json.Marshal(Price{SKU: "stale", Cents: 1})
	conf, err := ch.PublishWithDeferredConfirm(ResponseExchange(service), "Price.Get", true, false, amqp.Publishing{
		ContentType: "application/json", CorrelationId: "another-call", Body: stale,
		Headers: amqp.Table{HeaderService: caller},
	})
	if err != nil || !conf.Wait() {
		t.Fatalf("publish the stale answer: %v", err)
	}
	select {
	case r := <-returns:
		t.Fatalf("the stale answer was not routed to the caller's queue: %s", r.ReplyText)
	default:
	}
	close(gate)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if answer.SKU != "mine" {
		t.Fatalf("call took %+v, want its own answer", answer)
	}
}

// TestCallerSurvivesALostConnection: the broker closes the caller's
// consuming connection; the Caller opens a new channel and calls succeed
// again (bound: 30 s).
func TestCallerSurvivesALostConnection(t *testing.T) {
	service := brokertest.Name(t, "wr-price")
	caller := brokertest.Name(t, "wr-shop")
	deleteQueues(t, ResponseQueue(service, caller))
	warrenPriceService(t, service, nil, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := compat.NewCaller(ctx, dialWarren(t, caller), service, compat.WithCallTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var p Price
	if err := c.Call(ctx, "Price.Get", PriceQuery{SKU: "before"}, &p); err != nil || p.SKU != "before" {
		t.Fatalf("first call: %+v %v", p, err)
	}
	if n := brokertest.CloseConnections(t, caller+".consume", "test: caller connection lost"); n == 0 {
		t.Fatal("no consuming connection of the caller to close")
	}
	start := time.Now()
	brokertest.Eventually(t, 30*time.Second, "a call succeeds after the loss", func() bool {
		var p Price
		err := c.Call(ctx, "Price.Get", PriceQuery{SKU: "after"}, &p)
		return err == nil && p.SKU == "after"
	})
	t.Logf("calls answered again %v after the connection was closed", time.Since(start).Round(time.Millisecond))
}

// TestCallerFailsFastWithoutARequestQueue: a call to a service whose
// request queue does not exist fails with warren.ErrUnroutable, before its
// timeout (the request is mandatory).
func TestCallerFailsFastWithoutARequestQueue(t *testing.T) {
	target := brokertest.Name(t, "gq-absent")
	caller := brokertest.Name(t, "wr-shop")
	deleteQueues(t, ResponseQueue(target, caller))
	deleteExchanges(t, RequestExchange(target), ResponseExchange(target))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := compat.NewCaller(ctx, dialWarren(t, caller), target, compat.WithCallTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Call(ctx, "Price.Get", PriceQuery{SKU: "a"}, nil)
	if !errors.Is(err, warren.ErrUnroutable) {
		t.Fatalf("call with no request queue: %v, want ErrUnroutable", err)
	}
}
