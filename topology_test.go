package warren_test

import (
	"testing"
	"time"

	"github.com/warren-mq/warren"
)

func TestNamingConventions(t *testing.T) {
	for got, want := range map[string]string{
		warren.StreamExchange("events"):                   warren.EventExchange,
		warren.ServiceQueue(warren.EventExchange, "ship"): "events.topic.exchange.queue.ship",
		warren.RequestExchange("pricing"):                 "pricing.direct.exchange.request",
		warren.RequestQueue("pricing"):                    "pricing.direct.exchange.request.queue",
		warren.DeadLetterQueue("q"):                       "q.dlq",
		warren.WaitQueue("q", 5*time.Second):              "q.retry.5s",
		warren.WaitQueue("q", 200*time.Millisecond):       "q.retry.200ms",
		warren.WaitQueue("q", 1500*time.Millisecond):      "q.retry.1500ms",
		warren.WaitQueue("q", 90*time.Second):             "q.retry.1m30s",
		warren.WaitQueue("q", 2*time.Hour):                "q.retry.2h",
		warren.WaitQueue("q", time.Hour+5*time.Second):    "q.retry.1h5s",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestFormatDelay(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Second:                "5s",
		time.Minute:                    "1m",
		90 * time.Minute:               "1h30m",
		2*time.Hour + 5*time.Second:    "2h5s",
		200 * time.Millisecond:         "200ms",
		1500 * time.Millisecond:        "1500ms",
		250 * time.Microsecond:         "250us",
		7 * time.Nanosecond:            "7ns",
		time.Second + time.Microsecond: "1000001us",
	} {
		if got := warren.FormatDelay(d); got != want {
			t.Errorf("FormatDelay(%v) = %q, want %q", time.Duration(d), got, want)
		}
		if got := warren.WaitQueue("q", d); got != "q.retry."+want {
			t.Errorf("WaitQueue(q, %v) = %q, want it to end in FormatDelay's %q", time.Duration(d), got, want)
		}
	}
}

func TestConsumerTopology(t *testing.T) {
	ex := warren.Exchange{Name: "e", Durable: true}
	q := warren.Queue{Name: "q", Durable: true, Type: warren.Quorum}
	top, err := warren.ConsumerTopology(ex, q, []string{"a.*", "b.#"}, []time.Duration{time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Exchanges) != 1 || top.Exchanges[0].Kind != warren.KindTopic {
		t.Fatalf("exchanges %+v", top.Exchanges)
	}
	if len(top.Bindings) != 2 || top.Bindings[0].Key != "a.*" || top.Bindings[1].Queue != "q" {
		t.Fatalf("bindings %+v", top.Bindings)
	}
	if len(top.Queues) != 3 {
		t.Fatalf("queues %+v", top.Queues)
	}
	work, dlq, wait := top.Queues[0], top.Queues[1], top.Queues[2]
	if work.Args["x-dead-letter-exchange"] != "" || work.Args["x-dead-letter-routing-key"] != "q.dlq" ||
		work.Args["x-queue-type"] != "quorum" {
		t.Fatalf("work queue args %v", work.Args)
	}
	if dlq.Name != "q.dlq" || !dlq.Durable {
		t.Fatalf("dlq %+v", dlq)
	}
	if wait.Name != "q.retry.1s" || wait.Args["x-message-ttl"] != int64(1000) || wait.Args["x-dead-letter-routing-key"] != "q" {
		t.Fatalf("wait queue %+v", wait)
	}
	if _, err := warren.ConsumerTopology(warren.Exchange{Name: "d", Kind: warren.KindDirect}, q, []string{"a.*"}, nil); err == nil {
		t.Fatal("wildcard pattern on a direct exchange accepted")
	}
	if _, err := warren.ConsumerTopology(ex, warren.Queue{}, nil, nil); err == nil {
		t.Fatal("nameless queue accepted")
	}
}
