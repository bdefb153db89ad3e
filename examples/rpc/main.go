// Command rpc is warren's request/reply demo: a pricing service answers a
// query, an order service asks it.
//
// The pricing service mounts a warren.TypedReply handler for Price.Get on
// its request queue, by the naming convention:
//
//	<service>.direct.exchange.request        durable direct exchange
//	<service>.direct.exchange.request.queue  its queue, bound to Price.Get
//
// The order service calls it with a rabbitmq.Requester over direct reply-to
// (amq.rabbitmq.reply-to): two SKUs with a price, one without (the handler
// fails, and the caller gets an error reply with the code "not-found" at
// once rather than a timeout), and one call to a service that is not
// running (it fails fast as unroutable).
//
// Run it with `go run ./examples/rpc` against AMQP_URL (default
// amqp://guest:guest@127.0.0.1:5672/). It prints the results and exits.
//
// Request queues are durable by convention, so a real service keeps its
// queue between restarts. This demo names its pricing service uniquely per
// run (-prefix, default pricing-demo- and a random suffix, so that runs by
// several people on one broker do not answer each other's requests) and
// deletes its queue, dead-letter queue and exchange on exit unless -keep is
// given, leaving nothing behind unless it is killed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/middleware"
)

// PriceQuery asks for the price of a SKU.
type PriceQuery struct {
	SKU string `json:"sku"`
}

// Price is the answer to a PriceQuery.
type Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

var prices = map[string]int{"A1": 1299, "B2": 450}

func main() {
	prefix := flag.String("prefix", "pricing-demo-"+suffix(), "the pricing service's name, the start of every name the demo declares")
	keep := flag.Bool("keep", false, "leave the pricing service's queues and exchange in the broker for inspection")
	flag.Parse()
	if err := run(*prefix, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "rpc demo:", err)
		os.Exit(1)
	}
}

func run(service string, keep bool) error {
	url := os.Getenv("AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	pricing, err := startPricing(ctx, url, service)
	if err != nil {
		return err
	}
	defer func() {
		if err := pricing.stop(keep); err != nil {
			fmt.Fprintln(os.Stderr, "pricing-service: stop:", err)
		}
	}()
	return orders(ctx, url, service)
}

// orders is the order service: it asks pricing for prices.
func orders(ctx context.Context, url, pricingService string) error {
	client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName("order-service"))
	if err != nil {
		return err
	}
	defer client.Close()
	requester := client.NewRequester()
	defer requester.Close()

	for _, sku := range []string{"A1", "B2", "Z9"} {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		start := time.Now()
		price, err := rabbitmq.Call[PriceQuery, Price](callCtx, requester, pricingService, "Price.Get", PriceQuery{SKU: sku})
		cancel()
		took := time.Since(start).Round(time.Millisecond)
		var remote *rabbitmq.RemoteError
		switch {
		case errors.As(err, &remote):
			fmt.Printf("order-service:   %s has no price: error reply %q: %s (%v)\n", sku, remote.Code, remote.Message, took)
		case err != nil:
			return fmt.Errorf("order-service: price of %s: %w", sku, err)
		default:
			fmt.Printf("order-service:   %s costs %d cents (%v)\n", price.SKU, price.Cents, took)
		}
	}

	// A service nobody runs: the request fails at once instead of waiting
	// for its deadline.
	start := time.Now()
	_, err = rabbitmq.Call[PriceQuery, Price](ctx, requester, "inventory-demo-"+suffix(), "Stock.Get", PriceQuery{SKU: "A1"})
	if !errors.Is(err, warren.ErrUnroutable) {
		return fmt.Errorf("order-service: a call to a missing service: got %v, want ErrUnroutable", err)
	}
	fmt.Printf("order-service:   inventory is not running: failed fast (%v)\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// pricingService is the pricing service: a consumer of its request queue.
type pricingService struct {
	name     string
	client   *rabbitmq.Client
	consumer *rabbitmq.Consumer
	done     chan error
}

func startPricing(ctx context.Context, url, name string) (*pricingService, error) {
	client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName("pricing-service"))
	if err != nil {
		return nil, err
	}
	r := warren.NewRouter()
	r.Use(middleware.Recover)
	r.Handle("Price.Get", warren.TypedReply(func(ctx context.Context, q PriceQuery) (Price, error) {
		cents, ok := prices[q.SKU]
		if !ok {
			// The caller gets this as a *rabbitmq.RemoteError with Code
			// "not-found"; the request is acked (see warren.TypedReply).
			return Price{}, warren.ErrorCode(fmt.Errorf("no price for sku %q", q.SKU), "not-found")
		}
		return Price{SKU: q.SKU, Cents: cents}, nil
	}))
	cons, err := client.NewConsumer(ctx, r, rabbitmq.Requests(name), rabbitmq.WithWorkers(4))
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	fmt.Printf("pricing-service: answering %v on %s\n", r.Routes(), cons.Queue())
	s := &pricingService{name: name, client: client, consumer: cons, done: make(chan error, 1)}
	go func() { s.done <- cons.Run(context.Background()) }()
	return s, nil
}

// stop shuts the consumer down, deletes the demo's topology unless keep,
// and closes the client.
func (s *pricingService) stop(keep bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.consumer.Shutdown(ctx)
	if runErr := <-s.done; runErr != nil {
		err = errors.Join(err, runErr)
	}
	if keep {
		fmt.Println("pricing-service: kept", warren.RequestQueue(s.name), "and its exchange")
	} else if ch, cerr := s.client.Channel(ctx); cerr == nil {
		queue := warren.RequestQueue(s.name)
		for _, q := range []string{queue, warren.DeadLetterQueue(queue)} {
			if _, derr := ch.QueueDelete(q, false, false, false); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		if derr := ch.ExchangeDelete(warren.RequestExchange(s.name), false, false); derr != nil {
			err = errors.Join(err, derr)
		}
		_ = ch.Close()
	} else {
		err = errors.Join(err, cerr)
	}
	return errors.Join(err, s.client.Close())
}

func suffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
