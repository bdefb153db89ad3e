// Command orders is warren's demo: the seed scenario of an event stream.
//
// An order service publishes Order.Created and Order.Updated events to
// events.topic.exchange. A stat service consumes only Order.Created; a
// shipping service consumes both. Each service has its own client (its
// own connections, named in the broker's management view) and its own
// queue by the naming convention:
//
//	events.topic.exchange.queue.stat-service      bound to Order.Created
//	events.topic.exchange.queue.shipping-service  bound to Order.Created, Order.Updated
//
// Run it with `make demo` (which starts RabbitMQ if needed) or
// `go run ./examples/orders` against AMQP_URL (default
// amqp://guest:guest@127.0.0.1:5672/). It prints what each service
// handled and exits, deleting the services' queues (and the exchange, if
// nothing else is bound to it) unless -keep is given. -prefix names the
// stream (default "events", so the names above; `make examples` runs it
// under a unique one).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/middleware"
)

// OrderCreated is published when an order is placed.
type OrderCreated struct {
	OrderID  string `json:"orderId"`
	Customer string `json:"customer"`
	Total    int    `json:"totalCents"`
}

// OrderUpdated is published when an order changes.
type OrderUpdated struct {
	OrderID string `json:"orderId"`
	Status  string `json:"status"`
}

func main() {
	prefix := flag.String("prefix", "events", "the stream's name: the exchange is <prefix>.topic.exchange")
	keep := flag.Bool("keep", false, "leave the services' queues in the broker for inspection")
	flag.Parse()
	if err := run(*prefix, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "orders demo:", err)
		os.Exit(1)
	}
}

func run(stream string, keep bool) error {
	url := os.Getenv("AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	log := newLog()
	stat, err := newStatService(ctx, url, stream, log)
	if err != nil {
		return err
	}
	shipping, err := newShippingService(ctx, url, stream, log)
	if err != nil {
		return errors.Join(err, stat.stop(keep))
	}
	services := []*service{stat, shipping}
	for _, s := range services {
		s.start()
	}

	orders, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName("order-service"))
	if err != nil {
		return err
	}
	defer orders.Close()
	exchange := warren.Exchange{Name: warren.StreamExchange(stream), Kind: warren.KindTopic, Durable: true}
	pub, err := orders.NewPublisher(ctx, exchange, rabbitmq.WithTypeKeys(
		rabbitmq.KeyFor[OrderCreated]("Order.Created"),
		rabbitmq.KeyFor[OrderUpdated]("Order.Updated"),
	))
	if err != nil {
		return err
	}
	events := []any{
		OrderCreated{OrderID: "o-1", Customer: "ada", Total: 4200},
		OrderCreated{OrderID: "o-2", Customer: "grace", Total: 1299},
		OrderUpdated{OrderID: "o-1", Status: "paid"},
		OrderCreated{OrderID: "o-3", Customer: "linus", Total: 500},
		OrderUpdated{OrderID: "o-2", Status: "cancelled"},
	}
	for _, e := range events {
		if err := pub.Send(ctx, e); err != nil {
			return fmt.Errorf("order-service: publish %T: %w", e, err)
		}
		log.printf("order-service", "published %T %+v", e, e)
	}

	// 3 created events reach the stat service, all 5 reach shipping.
	if err := waitFor(ctx, func() bool { return stat.handled() >= 3 && shipping.handled() >= 5 }); err != nil {
		return fmt.Errorf("waiting for the services: stat handled %d of 3, shipping %d of 5: %w",
			stat.handled(), shipping.handled(), err)
	}
	for _, s := range services {
		if err := s.stop(keep); err != nil {
			return err
		}
	}
	fmt.Printf("\nstat-service handled %d events, shipping-service handled %d events; every one acked.\n",
		stat.handled(), shipping.handled())
	return nil
}

// service is one consuming service of the demo.
type service struct {
	name     string
	client   *rabbitmq.Client
	consumer *rabbitmq.Consumer
	done     chan error
	started  bool
	mu       sync.Mutex
	count    int
}

func newService(ctx context.Context, url, stream, name string, log *printer, mount func(r *warren.Router, s *service)) (*service, error) {
	client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName(name))
	if err != nil {
		return nil, err
	}
	s := &service{name: name, client: client, done: make(chan error, 1)}
	r := warren.NewRouter()
	r.Use(middleware.Recover)
	mount(r, s)
	s.consumer, err = client.NewConsumer(ctx, r, rabbitmq.TopicSpec(stream, name), rabbitmq.WithWorkers(4))
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	log.printf(name, "consuming %s, routes %v", s.consumer.Queue(), r.Routes())
	return s, nil
}

func newStatService(ctx context.Context, url, stream string, log *printer) (*service, error) {
	var revenue int
	return newService(ctx, url, stream, "stat-service", log, func(r *warren.Router, s *service) {
		r.Handle("Order.Created", warren.Typed(func(ctx context.Context, e OrderCreated) error {
			s.mu.Lock()
			revenue += e.Total
			s.count++
			total := revenue
			s.mu.Unlock()
			log.printf(s.name, "Order.Created %s: revenue so far %d cents", e.OrderID, total)
			return nil
		}))
	})
}

func newShippingService(ctx context.Context, url, stream string, log *printer) (*service, error) {
	return newService(ctx, url, stream, "shipping-service", log, func(r *warren.Router, s *service) {
		r.Handle("Order.Created", warren.Typed(func(ctx context.Context, e OrderCreated) error {
			s.inc()
			log.printf(s.name, "Order.Created %s: preparing a parcel for %s", e.OrderID, e.Customer)
			return nil
		}))
		r.Handle("Order.Updated", warren.Typed(func(ctx context.Context, e OrderUpdated) error {
			s.inc()
			log.printf(s.name, "Order.Updated %s: status %s", e.OrderID, e.Status)
			return nil
		}))
	})
}

func (s *service) inc() {
	s.mu.Lock()
	s.count++
	s.mu.Unlock()
}

func (s *service) handled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

func (s *service) start() {
	s.started = true
	go func() { s.done <- s.consumer.Run(context.Background()) }()
}

// stop shuts the service's consumer down and, unless keep, deletes the
// queues it declared and the exchange if nothing else is bound to it.
func (s *service) stop(keep bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if s.started {
		err = s.consumer.Shutdown(ctx)
		if runErr := <-s.done; runErr != nil {
			err = errors.Join(err, runErr)
		}
	}
	if !keep {
		err = errors.Join(err, deleteTopology(ctx, s.client, s.consumer.Topology()))
	}
	return errors.Join(err, s.client.Close())
}

// deleteTopology deletes t's queues, then its exchanges unless something
// else is still bound to them (events.topic.exchange may be shared).
func deleteTopology(ctx context.Context, client *rabbitmq.Client, t warren.Topology) error {
	ch, err := client.Channel(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	for _, q := range t.Queues {
		if _, err := ch.QueueDelete(q.Name, false, false, false); err != nil {
			return fmt.Errorf("delete queue %s: %w", q.Name, err)
		}
	}
	for _, e := range t.Exchanges {
		if err := ch.ExchangeDelete(e.Name, true, false); err != nil {
			return nil // in use by others (the channel is closed now)
		}
	}
	return nil
}

func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// printer serialises the services' output lines.
type printer struct{ mu sync.Mutex }

func newLog() *printer { return &printer{} }

func (p *printer) printf(who, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Printf("%-17s %s\n", who+":", fmt.Sprintf(format, args...))
}
