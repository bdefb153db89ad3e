//go:build cluster

package cluster

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// answerBound is how long the cluster's own answer about a queue on a
// stopped node may take to reach the caller.
const answerBound = 10 * time.Second

// homeNodeDown reports the broker's answer for a classic queue whose node
// is down: NOT_FOUND, "home node 'c1@localhost' of durable queue ... is
// down or inaccessible".
func homeNodeDown(err error) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && ae.Code == amqp.NotFound && strings.Contains(ae.Reason, "down or inaccessible")
}

// classicOnC1 declares, through c1, the consumer topology of a classic
// work queue: the queue lives on c1 (classic queues are not replicated).
func classicOnC1(t *testing.T, router *warren.Router) rabbitmq.Spec {
	t.Helper()
	spec := rabbitmq.TopicSpec(brokertest.Name(t, "svc"), "consumer")
	declareThrough(t, "c1", router, spec)
	if home := queueLeader(t, spec.Queue.Name, ""); home != "c1" {
		t.Fatalf("classic queue declared through c1 is on %s", home)
	}
	return spec
}

// TestClusterClassicHomeDownConsume is issue 13's "the cluster's own
// answers", consuming: a warren consumer on c2 of a classic queue on c1.
// When c1 stops, the running consumer reports the broker's answer (the
// queue's home node is down) as an event within the bound instead of
// waiting silently, a new consumer of the queue fails with that answer
// within the bound, and once c1 is back the running consumer consumes
// again.
func TestClusterClassicHomeDownConsume(t *testing.T) {
	requireCluster(t)
	var handled atomic.Int64
	router := warren.NewRouter()
	router.HandleFunc(streamRoute, func(context.Context, *warren.Message) error { handled.Add(1); return nil })
	spec := classicOnC1(t, router)

	ev := newEvents()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, nodeURL("c2"), rabbitmq.WithName(brokertest.Name(t, "client")),
		rabbitmq.WithReconnect(50*time.Millisecond, time.Second, 0), rabbitmq.WithObserver(ev))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	cons, err := client.NewConsumer(ctx, router, spec)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cons.Run(context.Background()) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		_ = cons.Shutdown(sctx)
	})
	publish(t, client.Publisher(), spec.Exchange.Name, "before")
	if !await(10*time.Second, func() bool { return handled.Load() == 1 }) {
		t.Fatal("the message published before the fault was not handled")
	}

	ev.mark("stop c1")
	node := stopNode(t, "c1")
	// The running consumer: the broker cancels it, and each restart's
	// declaration gets the broker's answer.
	answered := await(answerBound-time.Since(node.stopping), func() bool { return ev.saw(homeNodeDown) })
	reported := time.Since(node.stopping)

	// A new consumer of the queue.
	nctx, ncancel := context.WithTimeout(context.Background(), answerBound)
	defer ncancel()
	began := time.Now()
	_, newErr := client.NewConsumer(nctx, router, spec)
	newTook := time.Since(began)

	var runErr error
	select {
	case runErr = <-errc:
	default:
	}
	ev.mark("start c1")
	node.Start(t)
	publish(t, client.Publisher(), spec.Exchange.Name, "after")
	resumed := await(30*time.Second, func() bool { return handled.Load() >= 2 })
	ev.log(t)

	t.Logf("running consumer: the broker's answer reported within %v of stop_app of c1 beginning (stop_app took %v; answered: %v); Run returned: %v",
		reported.Round(time.Millisecond), node.stopped.Sub(node.stopping).Round(time.Millisecond), answered, runErr)
	t.Logf("new consumer while c1 is down: %v after %v", newErr, newTook.Round(time.Millisecond))
	if !answered {
		t.Errorf("the running consumer reported no 'home node down' answer within %v of c1 stopping", answerBound)
	}
	var te *rabbitmq.TopologyError
	if newErr == nil || !homeNodeDown(newErr) || !errors.As(newErr, &te) {
		t.Errorf("new consumer while c1 is down: %v, want a TopologyError with the broker's NOT_FOUND 'home node down' answer", newErr)
	}
	if newTook > answerBound {
		t.Errorf("new consumer took %v to fail, want within %v", newTook, answerBound)
	}
	if runErr != nil {
		t.Errorf("Run returned %v while the home node was down; it should wait for the node to come back", runErr)
	}
	if !resumed {
		t.Errorf("the consumer did not handle the message published after c1 came back (handled %d)", handled.Load())
	}
}

// TestClusterClassicHomeDownPublish is "the cluster's own answers",
// publishing: a warren client on c2 publishes with confirms to an exchange
// whose only bound queue is a classic queue on the stopped c1. A mandatory
// publish fails at once with warren.ErrUnroutable (the broker returns the
// message: no live queue took it). A publish that is not mandatory is
// confirmed by the broker and dropped: the test prints that answer and
// checks that the message is indeed not in the queue once c1 is back, so
// that a change in the broker's behaviour shows.
func TestClusterClassicHomeDownPublish(t *testing.T) {
	requireCluster(t)
	router := warren.NewRouter()
	router.HandleFunc(streamRoute, func(context.Context, *warren.Message) error { return nil })
	spec := classicOnC1(t, router)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(ctx, nodeURL("c2"), rabbitmq.WithName(brokertest.Name(t, "client")),
		rabbitmq.WithReconnect(50*time.Millisecond, time.Second, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })

	node := stopNode(t, "c1")
	results := map[bool]error{}
	took := map[bool]time.Duration{}
	for _, mandatory := range []bool{true, false} {
		pctx, pcancel := context.WithTimeout(context.Background(), answerBound+5*time.Second)
		began := time.Now()
		results[mandatory] = client.Publisher().Publish(pctx, &warren.Publishing{
			Exchange: spec.Exchange.Name, RoutingKey: streamRoute, Mandatory: mandatory,
			Publishing: amqp.Publishing{Body: []byte("while c1 is down")},
		})
		took[mandatory] = time.Since(began)
		pcancel()
	}
	node.Start(t)
	depth := brokertest.Depth(t, rawChannel(t, "c2"), spec.Queue.Name)

	for _, mandatory := range []bool{true, false} {
		t.Logf("publish (mandatory %v) while the queue's node c1 is down: %v, after %v", mandatory, results[mandatory], took[mandatory].Round(time.Millisecond))
	}
	t.Logf("messages in the queue after c1 came back: %d", depth)
	if !errors.Is(results[true], warren.ErrUnroutable) {
		t.Errorf("mandatory publish to a queue on a stopped node: %v, want warren.ErrUnroutable", results[true])
	}
	if took[true] > answerBound {
		t.Errorf("mandatory publish took %v, want an answer within %v", took[true], answerBound)
	}
	if results[false] != nil || depth != 0 {
		t.Errorf("the broker's answer changed: a publish that is not mandatory returned %v and the queue holds %d "+
			"(RabbitMQ 3.10 confirms it and drops it: update this test and docs/RELIABILITY.md)", results[false], depth)
	}
}

// publish publishes body to exchange with the stream's key and fails the
// test if it is not confirmed.
func publish(t *testing.T, pub warren.Publisher, exchange, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Publish(ctx, &warren.Publishing{Exchange: exchange, RoutingKey: streamRoute,
		Publishing: amqp.Publishing{Body: []byte(body)}}); err != nil {
		t.Fatalf("publish %q: %v", body, err)
	}
}
