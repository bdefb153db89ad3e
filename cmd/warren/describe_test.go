package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
)

func runCapture(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	r := warrenEnv(t, nil, args...)
	return r.code, r.stdout, r.stderr
}

func TestTopologyFromAServiceDescription(t *testing.T) {
	r := warren.NewRouter()
	for _, p := range []string{"Order.*", "Order.Created", "#"} {
		r.HandleFunc(p, func(context.Context, *warren.Message) error { return nil })
	}
	top, err := warren.ConsumerTopology(warren.Exchange{Name: "events.topic.exchange", Durable: true},
		warren.Queue{Name: "svc-q", Durable: true}, r.Routes(), []time.Duration{5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "svc.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := warren.WriteDescription(f, "svc", r, top); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out, errOut := runCapture(t, "topology", "--file", file)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"svc-q.dlq", "svc-q.retry.5s", "x-message-ttl=5000", "x-dead-letter-routing-key=svc-q.dlq", "Order.Created"} {
		if !strings.Contains(out, want) {
			t.Errorf("topology output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCapture(t, "routes", "--file", file)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 4 || !strings.HasPrefix(lines[1], "Order.Created") || !strings.HasPrefix(lines[3], "#") {
		t.Fatalf("routes: exit %d\n%s", code, out)
	}
	code, out, _ = runCapture(t, "topology", "--file", file, "--json")
	var back warren.Topology
	if code != exitOK || json.Unmarshal([]byte(out), &back) != nil || len(back.Queues) != 3 || len(back.Bindings) != 3 {
		t.Fatalf("topology --json: exit %d\n%s", code, out)
	}
}

func TestTopologyOfTheConvention(t *testing.T) {
	code, out, errOut := runCapture(t, "topology", "--service", "shipping", "--routes", "Order.Created, Order.*", "--quorum")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"events.topic.exchange.queue.shipping", "quorum", "Order.*"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := runCapture(t, "topology", "--service", "s", "--routes", "bad*"); code != exitFail || !strings.Contains(errOut, "malformed pattern") {
		t.Fatalf("a malformed route: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCapture(t, "topology"); code != exitUsage {
		t.Fatalf("no source: exit %d, want usage", code)
	}
	if code, _, errOut := runCapture(t, "routes", "--file", filepath.Join(t.TempDir(), "missing.json")); code != exitFail || errOut == "" {
		t.Fatalf("missing file: exit %d", code)
	}
}

type parcel struct {
	ID string `json:"id"`
}

func TestAsyncAPIFromADescription(t *testing.T) {
	r := warren.NewRouter()
	r.Handle("Parcel.Ready", warren.Typed(func(context.Context, parcel) error { return nil }))
	top, err := warren.ConsumerTopology(warren.Exchange{Name: warren.EventExchange, Durable: true},
		warren.Queue{Name: "svc-q", Durable: true}, r.Routes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "svc.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := warren.WriteDescription(f, "svc", r, top, warren.WithSend[parcel](warren.EventExchange, "Parcel.Shipped")); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out, errOut := runCapture(t, "asyncapi", "--file", file, "--version", "2.1.0", "--server", "rabbit:5672")
	var doc struct {
		AsyncAPI string `json:"asyncapi"`
		Info     struct{ Title, Version string }
		Servers  map[string]struct{ Host, Protocol string }
		Channels map[string]struct {
			Address string
		}
		Operations map[string]struct {
			Action string
		}
		Components struct {
			Messages map[string]struct {
				Payload struct {
					Properties map[string]any
				}
			}
		}
	}
	if code != exitOK || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("asyncapi: exit %d, %s %s", code, out, errOut)
	}
	var addresses, actions []string
	for _, c := range doc.Channels {
		addresses = append(addresses, c.Address)
	}
	for _, o := range doc.Operations {
		actions = append(actions, o.Action)
	}
	sort.Strings(addresses)
	sort.Strings(actions)
	if doc.AsyncAPI != "3.0.0" || doc.Info.Title != "svc" || doc.Info.Version != "2.1.0" || doc.Servers["rabbitmq"].Host != "rabbit:5672" ||
		strings.Join(addresses, ",") != "Parcel.Ready,Parcel.Shipped" || strings.Join(actions, ",") != "receive,send" ||
		doc.Components.Messages["parcel"].Payload.Properties["id"] == nil {
		t.Errorf("document %+v", doc)
	}
	if code, _, _ := runCapture(t, "asyncapi"); code != exitUsage {
		t.Errorf("no --file: exit %d", code)
	}
	if code, _, errOut := runCapture(t, "asyncapi", "--file", file+".missing"); code != exitFail || !strings.Contains(errOut, "warren asyncapi: open") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
}
