package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/retry"
)

// routingKey is the key every soak message is published with.
const routingKey = "Soak.Event"

// harness is one soak run: the client, its consumer and publisher, the
// books and the connection closer.
type harness struct {
	cfg    config
	name   string
	spec   rabbitmq.Spec
	client *rabbitmq.Client
	cons   *rabbitmq.Consumer
	tr     *tracker
	obs    *observer
	closes atomic.Int64
	runErr chan error

	dead    map[uint64]int // dead letters taken from the DLQ, per id
	reasons map[string]int // and per x-warren-reason
}

func newHarness(ctx context.Context, cfg config, name string) (*harness, error) {
	h := &harness{cfg: cfg, name: name, spec: rabbitmq.TopicSpec(name, "soak"), tr: newTracker(), obs: &observer{},
		runErr: make(chan error, 1), dead: map[uint64]int{}, reasons: map[string]int{}}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client, err := rabbitmq.Dial(dctx, cfg.url, rabbitmq.WithName(name), rabbitmq.WithObserver(h.obs),
		rabbitmq.WithReconnect(100*time.Millisecond, 5*time.Second, 0))
	if err != nil {
		return nil, err
	}
	h.client = client
	r := warren.NewRouter()
	r.Use(middleware.Recover, middleware.Timeout(10*time.Second))
	r.HandleFunc(routingKey, h.handle)
	h.cons, err = client.NewConsumer(dctx, r, h.spec, rabbitmq.WithWorkers(cfg.workers),
		rabbitmq.WithPrefetch(cfg.prefetch), rabbitmq.WithRetry(retry.Delays(cfg.delays...)))
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return h, nil
}

var errInjected = errors.New("soak: injected handler failure")

// handle is the soak's handler: it fails at random, and always for a
// poison message, and keeps the books.
func (h *harness) handle(_ context.Context, m *warren.Message) error {
	start := time.Now()
	id, ok := parseID(m.MessageID)
	if !ok {
		return warren.Permanent(fmt.Errorf("soak: message id %q", m.MessageID))
	}
	failed := h.cfg.poison(id) || rand.Float64() < h.cfg.failRate
	h.tr.handle(id, start, failed)
	if failed {
		return errInjected
	}
	return nil
}

// run publishes and consumes for the configured duration while closing
// connections and reporting, then waits for the queues to drain. It
// returns how long the whole took.
func (h *harness) run(ctx context.Context) time.Duration {
	start := time.Now()
	go func() { h.runErr <- h.cons.Run(context.Background()) }()

	pubCtx, stopPub := context.WithTimeout(ctx, h.cfg.duration)
	defer stopPub()
	hard, stopHard := context.WithTimeout(context.Background(), h.cfg.duration+h.cfg.drain)
	defer stopHard()
	repCtx, stopRep := context.WithCancel(context.Background())
	defer stopRep()

	rep := &reporter{out: os.Stdout, tr: h.tr, obs: h.obs, start: start, interval: h.cfg.reportEvery,
		closes: func() int { return int(h.closes.Load()) }}
	go rep.run(repCtx)
	var wg sync.WaitGroup
	if h.cfg.closeEvery > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); h.chaos(pubCtx, start) }()
	}
	body := bytes.Repeat([]byte(" "), max(h.cfg.size, 2))
	body[0], body[len(body)-1] = '{', '}'
	p := &publisher{pub: h.client.Publisher(), exchange: h.spec.Exchange.Name, key: routingKey, body: body,
		rate: h.cfg.rate, workers: h.cfg.publishers, tr: h.tr}
	p.run(pubCtx, hard)
	wg.Wait()
	fmt.Printf("%6s  publishing stopped; waiting for the queues to drain\n", time.Since(start).Round(time.Second))
	h.waitDrained(hard)
	return time.Since(start)
}

// chaos closes the soak's connections from the broker every closeEvery
// and reports how long consuming and publishing took to resume.
func (h *harness) chaos(ctx context.Context, start time.Time) {
	tick := time.NewTicker(h.cfg.closeEvery)
	defer tick.Stop()
	end, _ := ctx.Deadline()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !end.IsZero() && time.Until(end) < 10*time.Second {
			return // too late to see the soak resume
		}
		n, first, err := closeConnections(h.name+".", fmt.Sprintf("warren soak close %d", h.closes.Load()+1))
		h.closes.Add(1)
		if err != nil {
			fmt.Printf("%6s  close: %v\n", time.Since(start).Round(time.Second), err)
			continue
		}
		consume := h.resumed(ctx, h.name+".consume", h.tr.starts, first)
		publish := h.resumed(ctx, h.name+".publish", h.tr.confirms, first)
		cdown, _ := h.obs.outage(h.name + ".consume")
		pdown, _ := h.obs.outage(h.name + ".publish")
		fmt.Printf("%6s  closed %d connections; consuming resumed %v after its connection was lost (reconnected in %v), publishing %v after (reconnected in %v)\n",
			time.Since(start).Round(time.Second), n, consume, cdown.Round(time.Millisecond), publish, pdown.Round(time.Millisecond))
	}
}

// resumed waits until connection conn was lost (after since) and an event
// of events came after that, and returns how long after the loss the
// first one came.
func (h *harness) resumed(ctx context.Context, conn string, events *timeline, since time.Time) string {
	deadline := since.Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if lost, ok := h.obs.lostSince(conn, since); ok {
			if t, ok := events.firstAfter(lost); ok {
				return t.Sub(lost).Round(time.Millisecond).String()
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return "(not seen: the run ended)"
	}
	return "(not within a minute)"
}

// waitDrained waits until every confirmed message was handled or is in
// the dead-letter queue, or until ctx ends. It takes the dead letters out
// of the queue as they arrive (into h.dead) to see which ids they are.
func (h *harness) waitDrained(ctx context.Context) {
	for ctx.Err() == nil {
		if err := h.collectDeadLetters(); err != nil {
			fmt.Println("soak: reading the DLQ:", err)
		}
		if h.tr.pending(h.dead) == 0 {
			time.Sleep(time.Second) // let the last acks go out
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Println("soak: the queues did not drain in time")
}

// finish stops the consumer, closes the client, takes the rest of the
// dead letters and closes the books.
func (h *harness) finish() (summary, map[string]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.cons.Shutdown(ctx); err != nil {
		fmt.Println("soak: consumer shutdown:", err)
	}
	if err := <-h.runErr; err != nil {
		fmt.Println("soak: consumer run:", err)
	}
	if err := h.client.Close(); err != nil {
		fmt.Println("soak: client close:", err)
	}
	if err := h.collectDeadLetters(); err != nil {
		return summary{}, nil, err
	}
	return h.tr.account(h.dead, h.cfg.poison), h.reasons, nil
}

// collectDeadLetters takes every message in the dead-letter queue and
// counts copies per message id (h.dead) and dead letters per reason
// (h.reasons).
func (h *harness) collectDeadLetters() error {
	conn, err := amqp.Dial(h.cfg.url)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	for {
		d, ok, err := ch.Get(warren.DeadLetterQueue(h.spec.Queue.Name), true)
		if err != nil || !ok {
			return err
		}
		if id, ok := parseID(d.MessageId); ok {
			h.dead[id]++
		}
		reason, _ := warren.HeaderString(d.Headers, warren.HeaderReason)
		if reason == "" {
			reason = "none (broker dead-lettered)"
		}
		h.reasons[reason]++
	}
}

// deleteTopology deletes the soak's exchange and queues.
func (h *harness) deleteTopology() {
	conn, err := amqp.Dial(h.cfg.url)
	if err != nil {
		fmt.Println("soak: clean up:", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	q := h.spec.Queue.Name
	for _, name := range append([]string{q, warren.DeadLetterQueue(q)}, waitQueues(q, h.cfg.delays)...) {
		_, _ = ch.QueueDelete(name, false, false, false)
	}
	_ = ch.ExchangeDelete(h.spec.Exchange.Name, false, false)
}

func waitQueues(queue string, delays []time.Duration) []string {
	var out []string
	for _, d := range delays {
		out = append(out, warren.WaitQueue(queue, d))
	}
	return out
}
