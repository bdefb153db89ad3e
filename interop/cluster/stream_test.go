//go:build cluster

package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// A stream is the workload of the cluster fault tests: n persistent
// messages, numbered, published with confirms by a warren publisher from
// several goroutines to a quorum queue, and consumed by a warren consumer
// that counts every delivery of every number. A publish that fails is
// sent again with the same message id until it is confirmed, so every
// number is confirmed once in the end; one that failed may still have
// arrived, and its second copy is a publish-side duplicate.

// streamRoute is the routing key (and the route) of the stream's messages.
const streamRoute = "item"

// stream counts what was confirmed and what was delivered.
type stream struct {
	n         int
	confirmed []atomic.Bool
	delivered []atomic.Int32
	confirms  atomic.Int64  // numbers confirmed
	distinct  atomic.Int64  // numbers delivered at least once
	handled   atomic.Int64  // deliveries handled, duplicates included
	failures  atomic.Int64  // publishes that returned an error (then sent again)
	gaveUp    atomic.Int64  // numbers never confirmed before the publish deadline
	abort     chan struct{} // closed to end publishing early (a failed test)
	abortOnce sync.Once

	mu            sync.Mutex
	confirmTimes  []time.Time
	deliveryTimes []time.Time
	lastPubErr    error
	pubErrs       map[string]int // publish error texts, counted
}

func newStream(n int) *stream {
	return &stream{
		n:         n,
		confirmed: make([]atomic.Bool, n),
		delivered: make([]atomic.Int32, n),
		pubErrs:   map[string]int{},
		abort:     make(chan struct{}),
	}
}

// stop ends publishing early: publishes in flight finish, no new ones
// start.
func (s *stream) stop() { s.abortOnce.Do(func() { close(s.abort) }) }

func (s *stream) aborted() bool {
	select {
	case <-s.abort:
		return true
	default:
		return false
	}
}

// handle is the consumer's handler: it counts the delivery of its number.
func (s *stream) handle(_ context.Context, m *warren.Message) error {
	i, err := strconv.Atoi(string(m.Body))
	if err != nil || i < 0 || i >= s.n {
		return warren.Permanent(fmt.Errorf("not a stream message: %q", m.Body))
	}
	if s.delivered[i].Add(1) == 1 {
		s.distinct.Add(1)
	}
	s.handled.Add(1)
	s.mu.Lock()
	s.deliveryTimes = append(s.deliveryTimes, time.Now())
	s.mu.Unlock()
	return nil
}

// publish publishes the stream from goroutines goroutines through pub and
// returns when every number is confirmed or deadline passed.
func (s *stream) publish(pub warren.Publisher, exchange string, goroutines int, deadline time.Time) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= s.n || s.aborted() {
					return
				}
				s.publishOne(pub, exchange, i, deadline)
			}
		}()
	}
	wg.Wait()
}

func (s *stream) publishOne(pub warren.Publisher, exchange string, i int, deadline time.Time) {
	id := strconv.Itoa(i)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := pub.Publish(ctx, &warren.Publishing{
			Exchange: exchange, RoutingKey: streamRoute,
			Publishing: amqp.Publishing{MessageId: id, DeliveryMode: amqp.Persistent, Body: []byte(id)},
		})
		cancel()
		if err == nil {
			s.confirmed[i].Store(true)
			s.confirms.Add(1)
			s.mu.Lock()
			s.confirmTimes = append(s.confirmTimes, time.Now())
			s.mu.Unlock()
			return
		}
		s.failures.Add(1)
		s.mu.Lock()
		s.lastPubErr = err
		s.pubErrs[errorClass(err)]++
		s.mu.Unlock()
		if time.Now().After(deadline) || s.aborted() {
			s.gaveUp.Add(1)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// errorClass shortens an error to its kind, for counting.
func errorClass(err error) string {
	msg := err.Error()
	var ae *amqp.Error
	if errors.As(err, &ae) {
		msg = fmt.Sprintf("amqp %d %s", ae.Code, ae.Reason)
	}
	if len(msg) > 160 {
		msg = msg[:160]
	}
	return msg
}

// lost returns the confirmed numbers never delivered.
func (s *stream) lost() []int {
	var lost []int
	for i := range s.n {
		if s.confirmed[i].Load() && s.delivered[i].Load() == 0 {
			lost = append(lost, i)
		}
	}
	return lost
}

// duplicates returns how many deliveries were extra copies.
func (s *stream) duplicates() int64 { return s.handled.Load() - s.distinct.Load() }

// gaps returns the longest pause between consecutive confirms and between
// consecutive deliveries from since on (since counts as the first event).
func (s *stream) gaps(since time.Time) (confirm, delivery time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return longestGap(s.confirmTimes, since), longestGap(s.deliveryTimes, since)
}

// longestGap is the longest pause between consecutive times at or after
// since, the pause from since to the first of them included.
func longestGap(times []time.Time, since time.Time) time.Duration {
	ts := append([]time.Time(nil), times...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	prev, longest := since, time.Duration(0)
	for _, at := range ts {
		if at.Before(since) {
			continue
		}
		if d := at.Sub(prev); d > longest {
			longest = d
		}
		prev = at
	}
	return longest
}

// publishErrors summarises the publish errors seen.
func (s *stream) publishErrors() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for k, n := range s.pubErrs {
		parts = append(parts, fmt.Sprintf("%d x %s", n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// events records the client's connection and consumer events, with when
// they happened, for the test's report.
type events struct {
	warren.NopObserver
	start    time.Time
	mu       sync.Mutex
	lines    []string
	errs     []error
	restarts atomic.Int64
	downs    atomic.Int64
}

func newEvents() *events { return &events{start: time.Now()} }

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.lines) < 200 {
		e.lines = append(e.lines, fmt.Sprintf("%8s ", time.Since(e.start).Round(time.Millisecond))+fmt.Sprintf(format, args...))
	}
}

// ObserveConnection implements warren.Observer.
func (e *events) ObserveConnection(c warren.ConnectionEvent) {
	if c.State == warren.ConnDown {
		e.downs.Add(1)
	}
	e.add("connection %s %s attempt %d %v", c.Name, c.State, c.Attempt, c.Err)
}

// ObserveConsumer implements rabbitmq.ConsumerObserver.
func (e *events) ObserveConsumer(c rabbitmq.ConsumerEvent) {
	if c.Kind == rabbitmq.ConsumerRestart {
		e.restarts.Add(1)
	}
	if c.Err != nil {
		e.mu.Lock()
		e.errs = append(e.errs, c.Err)
		e.mu.Unlock()
	}
	e.add("consumer %s %v", c.Kind, c.Err)
}

// saw reports whether a consumer event carried an error that pred accepts.
func (e *events) saw(pred func(error) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, err := range e.errs {
		if pred(err) {
			return true
		}
	}
	return false
}

// mark notes a step of the test among the events.
func (e *events) mark(format string, args ...any) { e.add("--- "+format, args...) }

func (e *events) log(t *testing.T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t.Logf("events:\n%s", strings.Join(e.lines, "\n"))
}

// streamSpec is a unique quorum-queue event stream for the test, deleted
// (queues and exchange) when the test ends.
func streamSpec(t *testing.T) rabbitmq.Spec {
	t.Helper()
	spec := rabbitmq.TopicSpec(brokertest.Name(t, "svc"), "consumer")
	spec.Queue.Type = warren.Quorum
	return spec
}

// declareThrough declares the consumer topology of spec (with router's
// routes) through node, so that the quorum queue's leader is node (the
// default leader locator is client-local), and deletes it when the test
// ends.
func declareThrough(t *testing.T, node string, router *warren.Router, spec rabbitmq.Spec, opts ...rabbitmq.ConsumerOption) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := rabbitmq.Dial(ctx, nodeURL(node), rabbitmq.WithName(brokertest.Name(t, "declare")))
	if err != nil {
		t.Fatalf("dial %s: %v (start the cluster with: make cluster)", node, err)
	}
	defer c.Close()
	cons, err := c.NewConsumer(ctx, router, spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var queues []string
	for _, q := range cons.Topology().Queues {
		queues = append(queues, q.Name)
	}
	deleteOnCleanup(t, queues, []string{spec.Exchange.Name})
}

// await polls cond every 50 ms until it holds (true) or timeout passes
// (false).
func await(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// runConsumer runs cons in the background; stop shuts it down and
// returns Run's error. It is also stopped when the test ends.
func runConsumer(t *testing.T, cons *rabbitmq.Consumer) (stop func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- cons.Run(context.Background()) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = cons.Shutdown(ctx)
			runErr = <-errc
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// streamRun is one stream test under way: the client, its consumer
// running, the stream being published.
type streamRun struct {
	t         *testing.T
	s         *stream
	ev        *events
	client    *rabbitmq.Client
	spec      rabbitmq.Spec
	name      string // the client's name: its connections are name.consume, name.publish
	start     time.Time
	published chan struct{}
	stopCons  func() error
}

// startStream declares a quorum stream queue through declareNode (its
// leader), dials a client named name with dial, starts its consumer, and
// starts publishing n messages.
func startStream(t *testing.T, n int, declareNode string, dial func(ctx context.Context, name string, ev *events) (*rabbitmq.Client, error)) *streamRun {
	t.Helper()
	r := &streamRun{t: t, s: newStream(n), ev: newEvents(), spec: streamSpec(t), name: brokertest.Name(t, "client")}
	router := warren.NewRouter()
	router.HandleFunc(streamRoute, r.s.handle)
	opts := []rabbitmq.ConsumerOption{rabbitmq.WithPrefetch(streamPrefetch)}
	declareThrough(t, declareNode, router, r.spec, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := dial(ctx, r.name, r.ev)
	if err != nil {
		t.Fatal(err)
	}
	r.client = client
	t.Cleanup(func() { _ = client.Close() })
	cons, err := client.NewConsumer(ctx, router, r.spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r.stopCons = runConsumer(t, cons)
	r.start = time.Now()
	r.published = make(chan struct{})
	go func() {
		defer close(r.published)
		r.s.publish(client.Publisher(), r.spec.Exchange.Name, streamPublishers, r.start.Add(3*time.Minute))
	}()
	t.Cleanup(func() { r.s.stop(); <-r.published })
	return r
}

// at waits until fraction of the stream is confirmed, failing the test
// with the figures if that takes more than two minutes.
func (r *streamRun) at(fraction float64) {
	r.t.Helper()
	want := int64(fraction * float64(r.s.n))
	if !await(2*time.Minute, func() bool { return r.s.confirms.Load() >= want }) {
		r.ev.log(r.t)
		r.t.Fatalf("publishing did not reach %d of %d within 2 minutes: %d confirmed, %d delivered; publish errors: %s",
			want, r.s.n, r.s.confirms.Load(), r.s.distinct.Load(), r.s.publishErrors())
	}
}

// mark notes a step of the test with the stream's progress.
func (r *streamRun) mark(format string, args ...any) {
	r.ev.mark("%s at %d confirmed, %d delivered", fmt.Sprintf(format, args...), r.s.confirms.Load(), r.s.distinct.Load())
}

// finish waits for the stream to be published and delivered, stops the
// consumer and checks issue 13's promises: no confirmed message lost,
// duplicates within prefetch x losses (faults is the fewest losses the
// test caused; the consumer's restarts count if more) plus the publishes
// that failed and were sent again, and no pause in confirms or deliveries
// longer than bound (+ resumeSlack) from since on.
func (r *streamRun) finish(since time.Time, faults int64, bound time.Duration) {
	t, s := r.t, r.s
	t.Helper()
	<-r.published
	allDelivered := await(2*time.Minute, func() bool { return s.distinct.Load() >= s.confirms.Load() })
	// Give redeliveries still on their way a moment, then stop.
	settled := s.handled.Load()
	for await(2*time.Second, func() bool { return s.handled.Load() != settled }) {
		settled = s.handled.Load()
	}
	if err := r.stopCons(); err != nil {
		t.Errorf("consumer Run: %v", err)
	}
	elapsed := time.Since(r.start)
	confirmGap, deliveryGap := s.gaps(since)
	r.ev.log(t)

	lost := s.lost()
	dups := s.duplicates()
	losses := max(faults, r.ev.restarts.Load())
	dupBound := streamPrefetch*losses + s.failures.Load()
	t.Logf("%d messages in %v (%.0f/s): %d confirmed, %d delivered, %d lost, %d duplicates (bound %d = prefetch %d x %d losses + %d failed publishes), %d consumer restarts, %d connection downs",
		s.n, elapsed.Round(time.Millisecond), float64(s.n)/elapsed.Seconds(), s.confirms.Load(), s.distinct.Load(), len(lost), dups,
		dupBound, streamPrefetch, losses, s.failures.Load(), r.ev.restarts.Load(), r.ev.downs.Load())
	t.Logf("from the first fault on: longest pause between confirms %v, between deliveries %v (bound %v + %v slack)",
		confirmGap.Round(time.Millisecond), deliveryGap.Round(time.Millisecond), bound, resumeSlack)
	if errs := s.publishErrors(); errs != "" {
		t.Logf("publish errors (each sent again): %s", errs)
	}
	if g := s.gaveUp.Load(); g > 0 {
		t.Errorf("%d messages never confirmed within 3 minutes; last error: %v", g, s.lastPubErr)
	}
	if len(lost) > 0 || !allDelivered {
		t.Errorf("%d confirmed messages never delivered (first: %v)", len(lost), lost[:min(len(lost), 10)])
	}
	if dups > dupBound {
		t.Errorf("%d duplicates, more than the bound %d", dups, dupBound)
	}
	if confirmGap > bound+resumeSlack {
		t.Errorf("publishing paused %v, want at most %v (+%v slack)", confirmGap, bound, resumeSlack)
	}
	if deliveryGap > bound+resumeSlack {
		t.Errorf("consuming paused %v, want at most %v (+%v slack)", deliveryGap, bound, resumeSlack)
	}
}
