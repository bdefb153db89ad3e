package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

type priceQuery struct {
	N   int    `json:"n"`
	SKU string `json:"sku"`
}

type priceReply struct {
	N     int    `json:"n"`
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

// testService returns a unique service name; its request exchange and
// queues are deleted when the test ends.
func testService(t *testing.T) string {
	t.Helper()
	service := brokertest.Name(t, "svc")
	q := warren.RequestQueue(service)
	brokertest.DeleteQueues(t, q, warren.DeadLetterQueue(q))
	brokertest.DeleteExchanges(t, warren.RequestExchange(service))
	return service
}

// serveRequests runs a request consumer for service on its own client and
// returns the consumer; it is shut down when the test ends.
func serveRequests(t *testing.T, service string, r *warren.Router, opts ...ConsumerOption) *Consumer {
	t.Helper()
	cons, err := newTestClient(t).NewConsumer(context.Background(), r, Requests(service), opts...)
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	return cons
}

// newTestRequester returns a requester on a client of its own, closed when
// the test ends.
func newTestRequester(t *testing.T, opts ...RequesterOption) (*Requester, *Client) {
	t.Helper()
	client := newTestClient(t)
	r := client.NewRequester(opts...)
	t.Cleanup(func() { _ = r.Close() })
	return r, client
}

// pricing answers Price.Get with a price derived from the query, and fails
// in the ways the SKU asks for.
func pricing() *warren.Router {
	r := warren.NewRouter()
	r.Handle("Price.Get", warren.TypedReply(func(_ context.Context, q priceQuery) (priceReply, error) {
		switch q.SKU {
		case "missing":
			return priceReply{}, warren.ErrorCode(fmt.Errorf("no price for sku %q", q.SKU), "not-found")
		case "invalid":
			return priceReply{}, warren.Permanent(errors.New("sku is malformed"))
		case "broken":
			return priceReply{}, errors.New("price database unavailable")
		}
		return priceReply{N: q.N, SKU: q.SKU, Cents: 100 + q.N*3}, nil
	}))
	return r
}

// assertSettled checks that the request queue and its DLQ are empty: every
// request, answered or failed, was acked.
func assertSettled(t *testing.T, service string) {
	t.Helper()
	ch := brokertest.Channel(t)
	q := warren.RequestQueue(service)
	eventually(t, 5*time.Second, "the request queue to drain", func() bool { return depth(t, ch, q) == 0 })
	if n := depth(t, ch, warren.DeadLetterQueue(q)); n != 0 {
		t.Fatalf("%d requests in the DLQ", n)
	}
}

func TestRequestReplyConcurrent(t *testing.T) {
	service := testService(t)
	serveRequests(t, service, pricing(), WithWorkers(16))
	req, _ := newTestRequester(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const goroutines, total = 16, 1000
	var wg sync.WaitGroup
	var next, ok atomic.Int64
	errs := make(chan error, total)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for {
				n := int(next.Add(1) - 1)
				if n >= total {
					return
				}
				sku := fmt.Sprintf("sku-%d-%d", g, n)
				got, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{N: n, SKU: sku})
				if err != nil {
					errs <- fmt.Errorf("request %d: %w", n, err)
					continue
				}
				if want := (priceReply{N: n, SKU: sku, Cents: 100 + n*3}); got != want {
					errs <- fmt.Errorf("request %d got reply %+v, want %+v", n, got, want)
					continue
				}
				ok.Add(1)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ok.Load() != total {
		t.Fatalf("%d of %d requests got their own reply", ok.Load(), total)
	}
	if d := req.Dropped(); d != 0 {
		t.Fatalf("%d replies dropped", d)
	}
	assertSettled(t, service)
}

func TestRequestErrorReplies(t *testing.T) {
	service := testService(t)
	serveRequests(t, service, pricing())
	req, _ := newTestRequester(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for _, tc := range []struct{ sku, code, msg string }{
		{"missing", "not-found", `no price for sku "missing"`},
		{"invalid", warren.CodePermanent, "sku is malformed"},
		{"broken", warren.CodeError, "price database unavailable"},
	} {
		start := time.Now()
		_, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{SKU: tc.sku})
		var re *RemoteError
		if !errors.As(err, &re) {
			t.Fatalf("sku %s: err = %v, want a *RemoteError", tc.sku, err)
		}
		if re.Code != tc.code || re.Message != tc.msg || re.Service != service || re.Route != "Price.Get" {
			t.Fatalf("sku %s: %+v, want code %q message %q", tc.sku, re, tc.code, tc.msg)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("sku %s: the error took %v to arrive", tc.sku, took)
		}
		t.Logf("%s: %v", tc.sku, err)
	}
	// The failed requests were answered, so they were acked: nothing retried,
	// nothing dead-lettered.
	assertSettled(t, service)
}

func TestRequestBadInputGetsDecodeError(t *testing.T) {
	service := testService(t)
	serveRequests(t, service, pricing())
	req, _ := newTestRequester(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for name, p := range map[string]amqp.Publishing{
		"malformed json":       {ContentType: "application/json", Body: []byte(`{"sku":`)},
		"wrong shape":          {ContentType: "application/json", Body: []byte(`[1,2,3]`)},
		"unknown content type": {ContentType: "application/x-nope", Body: []byte(`x`)},
	} {
		_, err := req.Request(ctx, service, "Price.Get", p)
		var re *RemoteError
		if !errors.As(err, &re) || re.Code != warren.CodeDecode {
			t.Fatalf("%s: err = %v, want a RemoteError with code decode", name, err)
		}
	}
	// The requester is fine afterwards.
	if _, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{SKU: "ok"}); err != nil {
		t.Fatal(err)
	}
	assertSettled(t, service)
}

func TestRequestDeadlineAndLateReply(t *testing.T) {
	service := testService(t)
	release := make(chan struct{})
	var entered atomic.Int64
	r := warren.NewRouter()
	r.Handle("Slow.Echo", warren.TypedReply(func(_ context.Context, q priceQuery) (priceQuery, error) {
		entered.Add(1)
		<-release
		return q, nil
	}))
	serveRequests(t, service, r, WithWorkers(4))
	req, _ := newTestRequester(t)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	start := time.Now()
	_, err := Call[priceQuery, priceQuery](ctx, req, service, "Slow.Echo", priceQuery{SKU: "first"})
	took := time.Since(start)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if took > time.Second {
		t.Fatalf("the call returned %v after a 200ms deadline", took)
	}
	t.Logf("deadline: %v after %v", err, took.Round(time.Millisecond))

	// A second caller waits while the first request's handler is still
	// running; then both are answered. The late reply must not reach it.
	type result struct {
		q   priceQuery
		err error
	}
	second := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		q, err := Call[priceQuery, priceQuery](ctx, req, service, "Slow.Echo", priceQuery{SKU: "second"})
		second <- result{q, err}
	}()
	eventually(t, 10*time.Second, "both handlers to run", func() bool { return entered.Load() == 2 })
	unblock()
	res := <-second
	if res.err != nil || res.q.SKU != "second" {
		t.Fatalf("second caller got %+v, %v; want its own reply", res.q, res.err)
	}
	eventually(t, 5*time.Second, "the late reply to be dropped", func() bool { return req.Dropped() == 1 })
	assertSettled(t, service)
}

func TestRequestWithoutServiceFailsFast(t *testing.T) {
	service := testService(t)
	serveRequests(t, service, pricing())
	req, _ := newTestRequester(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// An exchange with no queue: the service declared nothing yet, or its
	// consumer is gone with an auto-deleted queue.
	bare := testService(t)
	ch := brokertest.Channel(t)
	if err := ch.ExchangeDeclare(warren.RequestExchange(bare), warren.KindDirect, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string][2]string{
		"no exchange":          {testService(t), "Price.Get"},
		"no queue":             {bare, "Price.Get"},
		"route nobody handles": {service, "Price.Delete"},
	} {
		start := time.Now()
		_, err := req.Request(ctx, target[0], target[1], amqp.Publishing{Body: []byte(`{}`)})
		if !errors.Is(err, warren.ErrUnroutable) {
			t.Fatalf("%s: err = %v, want ErrUnroutable", name, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("%s: took %v to fail", name, took)
		}
		t.Logf("%s: %v", name, err)
	}
	// Nothing of that hurt the requester's channel.
	if _, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{SKU: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := req.Request(ctx, "", "Price.Get", amqp.Publishing{}); err == nil {
		t.Fatal("a request with no service succeeded")
	}
}

func TestRequesterRecoversFromConnectionLoss(t *testing.T) {
	service := testService(t)
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	r := pricing()
	r.Handle("Slow.Echo", warren.TypedReply(func(_ context.Context, q priceQuery) (priceQuery, error) {
		<-release
		return q, nil
	}))
	serveRequests(t, service, r, WithWorkers(4))
	req, client := newTestRequester(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{SKU: "before"}); err != nil {
		t.Fatal(err)
	}

	inflight := make(chan error, 1)
	go func() {
		_, err := Call[priceQuery, priceQuery](ctx, req, service, "Slow.Echo", priceQuery{SKU: "lost"})
		inflight <- err
	}()
	time.Sleep(300 * time.Millisecond) // the request is published and its handler waits
	if n := closeConnections(t, client.Name()+".publish", "test: requester connection lost"); n != 1 {
		t.Fatalf("closed %d connections, want the requester's one", n)
	}
	closed := time.Now()
	select {
	case err := <-inflight:
		if !errors.Is(err, ErrRequestLost) {
			t.Fatalf("in-flight call: err = %v, want ErrRequestLost", err)
		}
		t.Logf("in flight: %v after %v", err, time.Since(closed).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight call did not fail within 5s of its connection closing")
	}
	unblock()
	got, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{N: 7, SKU: "after"})
	if err != nil || got.SKU != "after" || got.Cents != 121 {
		t.Fatalf("after recovery: %+v, %v", got, err)
	}
	// The lost request was answered to a reply-to that no longer exists: the
	// broker drops that reply, and the request is acked all the same.
	assertSettled(t, service)
}

func TestRequesterReplyQueueAndClose(t *testing.T) {
	service := testService(t)
	serveRequests(t, service, pricing())
	req, _ := newTestRequester(t, WithReplyQueue())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{N: 1, SKU: "q"})
	if err != nil || got.Cents != 103 {
		t.Fatalf("reply queue: %+v, %v", got, err)
	}
	_, err = Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{SKU: "missing"})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != "not-found" {
		t.Fatalf("error reply through a reply queue: %v", err)
	}
	if err := req.Close(); err != nil {
		t.Fatal(err)
	}
	if err := req.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := Call[priceQuery, priceReply](ctx, req, service, "Price.Get", priceQuery{}); !errors.Is(err, ErrRequesterClosed) {
		t.Fatalf("after Close: err = %v, want ErrRequesterClosed", err)
	}
}

func TestRequesterCloseFailsCallsInFlight(t *testing.T) {
	service := testService(t)
	release := make(chan struct{})
	r := warren.NewRouter()
	r.Handle("Slow.Echo", warren.TypedReply(func(_ context.Context, q priceQuery) (priceQuery, error) {
		<-release
		return q, nil
	}))
	serveRequests(t, service, r)
	defer close(release) // before the cleanups shut the consumer down
	req, _ := newTestRequester(t)
	errc := make(chan error, 1)
	go func() {
		_, err := Call[priceQuery, priceQuery](context.Background(), req, service, "Slow.Echo", priceQuery{})
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := req.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrRequesterClosed) {
			t.Fatalf("in-flight call: err = %v, want ErrRequesterClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight call did not return after Close")
	}
}

func TestRequestGoesThroughPublishMiddleware(t *testing.T) {
	service := testService(t)
	r := warren.NewRouter()
	r.Handle("Echo.Header", warren.TypedReply(func(ctx context.Context, _ struct{}) (string, error) {
		v, _ := warren.MessageFromContext(ctx).Header("x-test").(string)
		return v, nil
	}))
	serveRequests(t, service, r)
	var published atomic.Int64
	client := newTestClient(t, WithPublishMiddleware(func(next warren.Publisher) warren.Publisher {
		return warren.PublisherFunc(func(ctx context.Context, p *warren.Publishing) error {
			if p.Headers == nil {
				p.Headers = amqp.Table{}
			}
			p.Headers["x-test"] = "from middleware"
			err := next.Publish(ctx, p)
			if err == nil {
				published.Add(1)
			}
			return err
		})
	}))
	req := client.NewRequester()
	defer req.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := Call[struct{}, string](ctx, req, service, "Echo.Header", struct{}{})
	if err != nil || got != "from middleware" || published.Load() != 1 {
		t.Fatalf("got %q, %v; middleware saw %d confirmed publishes", got, err, published.Load())
	}
}
