package goamqp

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	compat "github.com/warren-mq/warren/compat/goamqp"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func cents(sku string) int { return 100 + len(sku) }

// TestWarrenCallsGoamqpService: a warren client calls a goamqp service
// (RequestResponseHandler) with compat's Caller: 4 goroutines, 25 calls
// each, on one route; every call gets its own answer (the answer names the
// call's SKU), and goamqp saw the caller's name in the service header.
func TestWarrenCallsGoamqpService(t *testing.T) {
	target := brokertest.Name(t, "gq-price")
	caller := brokertest.Name(t, "wr-shop")
	deleteQueues(t, RequestQueue(target), ResponseQueue(target, caller))
	deleteExchanges(t, RequestExchange(target), ResponseExchange(target))

	var mu sync.Mutex
	services := map[string]int{}
	peer := dialPeer(t, target)
	err := peer.RequestResponseHandler("Price.Get", PriceQuery{}, func(msg any, h map[string]any) (any, error) {
		q := msg.(*PriceQuery)
		mu.Lock()
		services[fmt.Sprint(h[HeaderService])]++
		mu.Unlock()
		return Price{SKU: q.SKU, Cents: cents(q.SKU)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := compat.NewCaller(ctx, dialWarren(t, caller), target, compat.WithCallTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const workers, calls = 4, 25
	errs := make(chan error, workers*calls)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				sku := fmt.Sprintf("sku-%d-%d", w, i)
				var p Price
				if err := c.Call(ctx, "Price.Get", PriceQuery{SKU: sku}, &p); err != nil {
					errs <- fmt.Errorf("call %s: %w", sku, err)
					continue
				}
				if p.SKU != sku || p.Cents != cents(sku) {
					errs <- fmt.Errorf("call %s answered with %+v", sku, p)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(services) != 1 || services[caller] != workers*calls {
		t.Fatalf("service headers goamqp saw: %v, want %s x %d", services, caller, workers*calls)
	}
}

// TestGoamqpCallsWarrenService: a goamqp client (ServicePublisher and
// ServiceResponseConsumer) calls a warren service whose route is a
// compat.Responder; all 100 answers arrive on the goamqp response queue,
// each the answer to one request.
func TestGoamqpCallsWarrenService(t *testing.T) {
	service := brokertest.Name(t, "wr-price")
	caller := brokertest.Name(t, "gq-shop")
	deleteQueues(t, ResponseQueue(service, caller))
	deleteExchanges(t, RequestExchange(service), ResponseExchange(service))

	client := dialWarren(t, service)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := client.Declare(ctx, compat.ResponseTopology(service)); err != nil {
		t.Fatal(err)
	}
	r := warren.NewRouter()
	r.Handle("Price.Get", compat.Responder(service, func(_ context.Context, q PriceQuery) (Price, error) {
		return Price{SKU: q.SKU, Cents: cents(q.SKU)}, nil
	}))
	newConsumer(t, client, r, rabbitmq.Requests(service))

	var mu sync.Mutex
	answers := map[string]Price{}
	var wrong []string
	peer := dialPeer(t, caller)
	pub, err := peer.ServicePublisher(service, map[string]any{"Price.Get": PriceQuery{}})
	if err != nil {
		t.Fatal(err)
	}
	err = peer.ServiceResponseConsumer(service, "Price.Get", Price{}, func(msg any, h map[string]any) (any, error) {
		p := msg.(*Price)
		mu.Lock()
		defer mu.Unlock()
		if h[HeaderService] != caller {
			wrong = append(wrong, fmt.Sprint(h))
		}
		answers[p.SKU] = *p
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}

	const requests = 100
	for i := range requests {
		if err := pub.Publish(ctx, PriceQuery{SKU: fmt.Sprintf("sku-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.Eventually(t, 60*time.Second, "goamqp gets every answer", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(answers) == requests
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range requests {
		sku := fmt.Sprintf("sku-%d", i)
		if a := answers[sku]; a.Cents != cents(sku) {
			t.Errorf("answer for %s: %+v", sku, a)
		}
	}
	if len(wrong) > 0 {
		t.Fatalf("%d answers without service=%s, first headers %s", len(wrong), caller, wrong[0])
	}
}

// TestPlainRequestCarriesTheCallerName: a request from warren's own
// Requester (not compat's Caller) carries the service header with the
// client's name, so a goamqp service handles it once and answers it its
// own way, instead of its reply wrapper failing and requeueing the
// request for ever (41,909 handler runs in 6 s without the header). The
// answer goes to goamqp's response exchange, which a plain Requester does
// not read: the call ends by its own deadline.
func TestPlainRequestCarriesTheCallerName(t *testing.T) {
	target := brokertest.Name(t, "gq-price")
	caller := brokertest.Name(t, "wr-plain")
	deleteQueues(t, RequestQueue(target))
	deleteExchanges(t, RequestExchange(target), ResponseExchange(target))
	var mu sync.Mutex
	var seen []any
	peer := dialPeer(t, target)
	err := peer.RequestResponseHandler("Price.Get", PriceQuery{}, func(msg any, h map[string]any) (any, error) {
		mu.Lock()
		seen = append(seen, h[HeaderService])
		mu.Unlock()
		return Price{SKU: msg.(*PriceQuery).SKU}, nil
	})
	if err == nil {
		err = peer.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	req := dialWarren(t, caller).NewRequester()
	defer req.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = rabbitmq.Call[PriceQuery, Price](ctx, req, target, "Price.Get", PriceQuery{SKU: "a"})
	if err == nil {
		t.Fatal("a plain Requester got an answer from goamqp: the reply protocols differ, compat's Caller is the way")
	}
	time.Sleep(500 * time.Millisecond) // a requeue loop would show by now
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != caller {
		t.Fatalf("goamqp ran its handler %d times with service headers %v; want once with %q", len(seen), seen, caller)
	}
}
