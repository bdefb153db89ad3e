// Command health shows a service's liveness and readiness probes: the
// health package's handler over a rabbitmq.Client, asked at each stage of
// the client's life.
//
//   - before its consumer runs: live, not ready ("consumer ... is starting");
//   - consuming: live and ready;
//   - after the consumer's graceful shutdown: still ready (a consumer
//     stopped on purpose does not count);
//   - after Close: neither (the client is done: Err is ErrClosed; after a
//     recovery that gave up it would be ErrGaveUp, and the liveness probe
//     would get the process restarted).
//
// During an outage the client is live but not ready (a connection is down,
// recovering): a load balancer takes it out of rotation and an orchestrator
// leaves it alone.
//
// Run it with `go run ./examples/health` against AMQP_URL (default
// amqp://guest:guest@127.0.0.1:5672/). It serves the probes on -addr
// (default any free loopback port), prints each answer and exits. Every
// name it declares starts with -prefix; it deletes them on exit unless
// -keep is given.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/health"
)

func main() {
	prefix := flag.String("prefix", "health-demo-"+suffix(), "the service's name, the start of every name the demo declares")
	keep := flag.Bool("keep", false, "leave the demo's queues and exchange in the broker for inspection")
	addr := flag.String("addr", "127.0.0.1:0", "where to serve /livez and /readyz")
	flag.Parse()
	if err := run(*prefix, *addr, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "health demo:", err)
		os.Exit(1)
	}
}

func run(service, addr string, keep bool) error {
	url := os.Getenv("AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client, err := rabbitmq.Dial(ctx, url, rabbitmq.WithName(service))
	if err != nil {
		return err
	}
	defer func() { _ = client.Close() }()

	// The probes, as a service mounts them next to its other endpoints.
	mux := http.NewServeMux()
	mux.Handle("/livez", health.Handler(client))
	mux.Handle("/readyz", health.Handler(client))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	base := "http://" + ln.Addr().String()
	fmt.Println("probes on", base+"/livez", "and", base+"/readyz")

	handled := make(chan string, 1)
	r := warren.NewRouter()
	r.HandleFunc("Job.Done", func(_ context.Context, m *warren.Message) error {
		handled <- m.MessageID
		return nil
	})
	spec := rabbitmq.TopicSpec(service, "worker")
	consumer, err := client.NewConsumer(ctx, r, spec)
	if err != nil {
		return err
	}
	if err := ask(base, "before the consumer runs", 200, 503); err != nil {
		return err
	}

	runErr := make(chan error, 1)
	go func() { runErr <- consumer.Run(ctx) }()
	if err := waitReady(ctx, client); err != nil {
		return err
	}
	if err := ask(base, "consuming", 200, 200); err != nil {
		return err
	}
	if err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: spec.Exchange.Name, RoutingKey: "Job.Done",
		Publishing: amqp.Publishing{MessageId: "job-1", Body: []byte(`{}`)}}); err != nil {
		return err
	}
	select {
	case id := <-handled:
		fmt.Println("handled", id)
	case <-ctx.Done():
		return errors.New("the message was not handled")
	}

	if err := consumer.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-runErr; err != nil {
		return err
	}
	state, _ := consumer.State()
	fmt.Println("consumer", state)
	if err := ask(base, "after a graceful shutdown", 200, 200); err != nil {
		return err
	}
	if err := cleanup(ctx, client, consumer.Topology(), keep); err != nil {
		return err
	}
	if err := client.Close(); err != nil {
		return err
	}
	<-client.Done()
	return ask(base, "after Close", 503, 503)
}

// waitReady polls Ready until it holds (the consumer subscribed).
func waitReady(ctx context.Context, client *rabbitmq.Client) error {
	for client.Ready() != nil {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %v", client.Ready())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// ask asks both probes, prints their answers and checks their codes.
func ask(base, stage string, live, ready int) error {
	for _, p := range []struct {
		path string
		want int
	}{{"/livez", live}, {"/readyz", ready}} {
		resp, err := http.Get(base + p.path)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		fmt.Printf("%-26s %-7s %d %s\n", stage+":", p.path, resp.StatusCode, strings.TrimSpace(string(body)))
		if resp.StatusCode != p.want {
			return fmt.Errorf("%s: %s answered %d, want %d", stage, p.path, resp.StatusCode, p.want)
		}
	}
	return nil
}

// cleanup deletes what the consumer declared, unless keep.
func cleanup(ctx context.Context, client *rabbitmq.Client, t warren.Topology, keep bool) error {
	if keep {
		fmt.Println("kept", len(t.Queues), "queues and", len(t.Exchanges), "exchanges")
		return nil
	}
	ch, err := client.Channel(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	for _, q := range t.Queues {
		if _, err := ch.QueueDelete(q.Name, false, false, false); err != nil {
			return err
		}
	}
	for _, x := range t.Exchanges {
		if err := ch.ExchangeDelete(x.Name, false, false); err != nil {
			return err
		}
	}
	return nil
}

func suffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
