package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/warren-mq/warren"
)

// Statuses of one topology check.
const (
	checkOK        = "ok"
	checkMissing   = "MISSING"
	checkDiffers   = "DIFFERS"
	checkExtra     = "EXTRA"
	checkUnchecked = "unchecked"
)

// checkResult is the verdict on one exchange, queue or binding.
type checkResult struct {
	Status string `json:"status"`
	Kind   string `json:"kind"` // exchange, queue, binding
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

// checkReport is what topology --check found.
type checkReport struct {
	// Mode is "management" (the management HTTP API: existence, kinds,
	// durability, arguments and bindings) or "passive" (passive declares:
	// existence of exchanges and queues only).
	Mode    string        `json:"mode"`
	Why     string        `json:"why,omitempty"` // why not the management API
	Results []checkResult `json:"results"`
	Drift   bool          `json:"drift"`
}

const passiveChecks = "passive declares: exchanges and queues are checked for existence; " +
	"kinds, durability, arguments and bindings need the management plugin"

func checkTopology(ctx context.Context, e *env, d warren.Description, o *describeOptions) int {
	b, err := connect(brokerURL(o.url, e.getenv), "warren topology --check", o.mgmt)
	if err != nil {
		return fail(e, err)
	}
	defer b.close()
	rep, err := b.check(ctx, d.Topology)
	if err != nil {
		return fail(e, err)
	}
	if o.asJSON {
		err = writeJSON(e.stdout, rep)
	} else {
		err = writeCheck(e, rep)
	}
	if err != nil {
		return fail(e, err)
	}
	if rep.Drift {
		return exitFail
	}
	return exitOK
}

func (b *broker) check(ctx context.Context, t warren.Topology) (checkReport, error) {
	var rep checkReport
	var err error
	if up, why := b.mgmt.available(ctx); up {
		rep.Mode = "management"
		rep.Results, err = b.checkManagement(ctx, t)
	} else {
		rep.Mode, rep.Why = "passive", why
		rep.Results, err = b.checkPassive(t)
	}
	for _, r := range rep.Results {
		if r.Status != checkOK && r.Status != checkUnchecked {
			rep.Drift = true
		}
	}
	return rep, err
}

func (b *broker) checkPassive(t warren.Topology) ([]checkResult, error) {
	var out []checkResult
	for _, x := range t.Exchanges {
		ok, err := b.exchangeExists(x.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, existence("exchange", x.Name, ok))
	}
	for _, q := range t.Queues {
		ok, err := b.queueExists(q.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, existence("queue", q.Name, ok))
	}
	for _, bd := range t.Bindings {
		out = append(out, checkResult{Status: checkUnchecked, Kind: "binding", Name: bindingName(bd.Exchange, bd.Queue, bd.Key),
			Detail: "bindings are visible only through the management plugin"})
	}
	return out, nil
}

func existence(kind, name string, ok bool) checkResult {
	if ok {
		return checkResult{Status: checkOK, Kind: kind, Name: name, Detail: "exists (kind, durability and arguments not checked)"}
	}
	return checkResult{Status: checkMissing, Kind: kind, Name: name}
}

func bindingName(exchange, queue, key string) string {
	return fmt.Sprintf("%s -> %s (%s)", orDefault(exchange), queue, key)
}

func orDefault(exchange string) string {
	if exchange == "" {
		return "(default)"
	}
	return exchange
}

func (b *broker) checkManagement(ctx context.Context, t warren.Topology) ([]checkResult, error) {
	var out []checkResult
	for _, x := range t.Exchanges {
		got, ok, err := b.mgmt.exchange(ctx, x.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, checkResult{Status: checkMissing, Kind: "exchange", Name: x.Name})
			continue
		}
		kind := x.Kind
		if kind == "" {
			kind = warren.KindTopic
		}
		var diffs []string
		diffs = differs(diffs, "kind", kind, got.Type)
		diffs = differs(diffs, "durable", x.Durable, got.Durable)
		diffs = differs(diffs, "auto-delete", x.AutoDelete, got.AutoDelete)
		diffs = append(diffs, argDiffs(x.Args, got.Arguments)...)
		out = append(out, verdict("exchange", x.Name, diffs))
	}
	wanted := map[string][]warren.Binding{} // by queue
	for _, bd := range t.Bindings {
		wanted[bd.Queue] = append(wanted[bd.Queue], bd)
	}
	for _, q := range t.Queues {
		got, ok, err := b.mgmt.queue(ctx, q.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, checkResult{Status: checkMissing, Kind: "queue", Name: q.Name})
			continue
		}
		typ := string(q.Type)
		if typ == "" {
			typ = string(warren.Classic)
		}
		var diffs []string
		diffs = differs(diffs, "type", typ, orClassic(got.Type))
		diffs = differs(diffs, "durable", q.Durable, got.Durable)
		diffs = differs(diffs, "auto-delete", q.AutoDelete, got.AutoDelete)
		diffs = differs(diffs, "exclusive", q.Exclusive, got.Exclusive)
		diffs = append(diffs, argDiffs(without(q.Args, "x-queue-type"), without(got.Arguments, "x-queue-type"))...)
		out = append(out, verdict("queue", q.Name, diffs))

		bindings, err := b.mgmt.bindingsTo(ctx, q.Name)
		if err != nil {
			return nil, err
		}
		res, err := compareBindings(wanted[q.Name], bindings)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
		delete(wanted, q.Name)
	}
	// Bindings to queues the description does not declare.
	queues := make([]string, 0, len(wanted))
	for q := range wanted {
		queues = append(queues, q)
	}
	slices.Sort(queues)
	for _, q := range queues {
		bindings, err := b.mgmt.bindingsTo(ctx, q)
		if err != nil && !errors.Is(err, errHTTPNotFound) {
			return nil, err
		}
		res, err := compareBindings(wanted[q], bindings)
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if r.Status != checkExtra { // another service's queue: only what this one needs
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// compareBindings compares the bindings a description wants to one queue
// with those the broker has to it (the default exchange's implicit one
// left out).
func compareBindings(want []warren.Binding, have []mgmtBinding) ([]checkResult, error) {
	var out []checkResult
	used := make([]bool, len(have))
	for _, w := range want {
		name := bindingName(w.Exchange, w.Queue, w.Key)
		found := false
		for i, h := range have {
			if !used[i] && h.Source == w.Exchange && h.RoutingKey == w.Key && h.DestinationType == "queue" && len(argDiffs(w.Args, h.Arguments)) == 0 {
				used[i], found = true, true
				break
			}
		}
		if found {
			out = append(out, checkResult{Status: checkOK, Kind: "binding", Name: name})
		} else {
			out = append(out, checkResult{Status: checkMissing, Kind: "binding", Name: name})
		}
	}
	for i, h := range have {
		if used[i] || h.Source == "" {
			continue
		}
		out = append(out, checkResult{Status: checkExtra, Kind: "binding", Name: bindingName(h.Source, h.Destination, h.RoutingKey),
			Detail: "the broker has it, the description does not: the queue receives keys it was not declared for"})
	}
	return out, nil
}

func verdict(kind, name string, diffs []string) checkResult {
	if len(diffs) == 0 {
		return checkResult{Status: checkOK, Kind: kind, Name: name}
	}
	return checkResult{Status: checkDiffers, Kind: kind, Name: name, Detail: strings.Join(diffs, "; ")}
}

func differs[T comparable](diffs []string, what string, want, have T) []string {
	if want != have {
		diffs = append(diffs, fmt.Sprintf("%s: wants %v, broker has %v", what, want, have))
	}
	return diffs
}

func orClassic(t string) string {
	if t == "" {
		return string(warren.Classic)
	}
	return t
}

func without(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// argDiffs compares declared arguments with the broker's, both as JSON
// sees them (numbers of any Go type compare by value).
func argDiffs[M ~map[string]any](want M, have map[string]any) []string {
	w, h := jsonArgs(map[string]any(want)), jsonArgs(have)
	keys := map[string]bool{}
	for k := range w {
		keys[k] = true
	}
	for k := range h {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	var diffs []string
	for _, k := range sorted {
		wv, wok := w[k]
		hv, hok := h[k]
		switch {
		case !hok:
			diffs = append(diffs, fmt.Sprintf("%s: wants %s, broker has none", k, jsonText(wv)))
		case !wok:
			diffs = append(diffs, fmt.Sprintf("%s: wants none, broker has %s", k, jsonText(hv)))
		case !reflect.DeepEqual(wv, hv):
			diffs = append(diffs, fmt.Sprintf("%s: wants %s, broker has %s", k, jsonText(wv), jsonText(hv)))
		}
	}
	return diffs
}

func jsonArgs(m map[string]any) map[string]any {
	out := map[string]any{}
	if len(m) == 0 {
		return out
	}
	b, err := json.Marshal(jsonTable(m))
	if err != nil || json.Unmarshal(b, &out) != nil {
		return map[string]any{"(unreadable)": fmt.Sprint(m)}
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func writeCheck(e *env, rep checkReport) error {
	w := e.stdout
	if rep.Mode == "management" {
		fmt.Fprintln(w, "checked through the management API: existence, kinds, durability, arguments and bindings")
	} else {
		fmt.Fprintf(w, "checked by %s\n(%s)\n", passiveChecks, rep.Why)
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	fmt.Fprintln(tw, "STATUS\tKIND\tNAME\tDETAIL")
	counts := map[string]int{}
	for _, r := range rep.Results {
		counts[r.Status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Status, r.Kind, line(r.Name, 255), line(r.Detail, 4*errorColumn))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, s := range []string{checkOK, checkMissing, checkDiffers, checkExtra, checkUnchecked} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ToLower(s)))
		}
	}
	verdict := "no drift"
	if rep.Drift {
		verdict = "drift"
	}
	_, err := fmt.Fprintf(w, "%s: %s\n", verdict, strings.Join(parts, ", "))
	return err
}
