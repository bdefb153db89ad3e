package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// checkFixture is a service description with uniquely named objects,
// written to a file, and the broker objects deleted when the test ends.
type checkFixture struct {
	file     string
	exchange string
	queue    string
	topology warren.Topology
}

func newCheckFixture(t *testing.T) *checkFixture {
	t.Helper()
	f := &checkFixture{exchange: brokertest.Name(t, "ex"), queue: brokertest.Name(t, "q")}
	r := warren.NewRouter()
	for _, p := range []string{"Order.Created", "Order.*"} {
		r.HandleFunc(p, func(context.Context, *warren.Message) error { return nil })
	}
	top, err := warren.ConsumerTopology(warren.Exchange{Name: f.exchange, Kind: warren.KindTopic, Durable: false},
		warren.Queue{Name: f.queue}, r.Routes(), []time.Duration{5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.topology = top
	brokertest.DeleteQueues(t, f.queue, f.queue+".dlq", f.queue+".retry.5s")
	brokertest.DeleteExchanges(t, f.exchange)
	f.file = filepath.Join(t.TempDir(), "desc.json")
	out, err := os.Create(f.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := warren.WriteDescription(out, "svc", r, top); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return f
}

// declare declares the fixture's exchange and queues (all but skip) as
// the description says, with their bindings.
func (f *checkFixture) declare(t *testing.T, ch *amqp.Channel, skip string) {
	t.Helper()
	for _, x := range f.topology.Exchanges {
		if err := ch.ExchangeDeclare(x.Name, x.Kind, x.Durable, x.AutoDelete, false, false, x.Args); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range f.topology.Queues {
		if q.Name == skip {
			continue
		}
		if _, err := ch.QueueDeclare(q.Name, q.Durable, q.AutoDelete, q.Exclusive, false, q.Args); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range f.topology.Bindings {
		if err := ch.QueueBind(b.Queue, b.Key, b.Exchange, false, b.Args); err != nil {
			t.Fatal(err)
		}
	}
}

func statusOf(rep checkReport, kind, name string) string {
	for _, r := range rep.Results {
		if r.Kind == kind && r.Name == name {
			return r.Status
		}
	}
	return "(absent)"
}

func TestTopologyCheckByPassiveDeclares(t *testing.T) {
	f := newCheckFixture(t)
	ch := brokertest.Channel(t)
	dlq := f.queue + ".dlq"
	f.declare(t, ch, dlq)

	for _, mgmt := range []string{"off", "http://127.0.0.1:1"} { // turned off, and unreachable
		r := warrenCmd(t, "topology", "--file", f.file, "--check", "--management", mgmt)
		if r.code != exitFail || !strings.Contains(r.stdout, "checked by passive declares") || !strings.Contains(r.stdout, "need the management plugin") {
			t.Fatalf("--management %s: %+v", mgmt, r)
		}
		if mgmt != "off" && !strings.Contains(r.stdout, "cannot be read") {
			t.Errorf("the reason the management API is not used is not said: %q", r.stdout)
		}
	}
	r := warrenCmd(t, "topology", "--file", f.file, "--check", "--management", "off", "--json")
	var rep checkReport
	if r.code != exitFail || json.Unmarshal([]byte(r.stdout), &rep) != nil {
		t.Fatalf("--json: %+v", r)
	}
	if rep.Mode != "passive" || !rep.Drift || statusOf(rep, "queue", dlq) != checkMissing ||
		statusOf(rep, "queue", f.queue) != checkOK || statusOf(rep, "exchange", f.exchange) != checkOK ||
		statusOf(rep, "binding", bindingName(f.exchange, f.queue, "Order.*")) != checkUnchecked {
		t.Fatalf("report %+v", rep)
	}

	if _, err := ch.QueueDeclare(dlq, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	r = warrenCmd(t, "topology", "--file", f.file, "--check", "--management", "off")
	if r.code != exitOK || !strings.Contains(r.stdout, "no drift: 4 ok, 2 unchecked") {
		t.Fatalf("all declared: %+v", r)
	}
}
