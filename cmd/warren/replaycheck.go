package main

import (
	"context"
	"fmt"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/deadletter"
)

// noRoutingCheck is said of a dry run's message whose routing cannot be
// checked: a mandatory publish would be a real one, and bindings are only
// visible through the management API.
const noRoutingCheck = "routing not checked: cannot check routing without the management plugin"

// checkReplay checks, for a dry run's result, what the broker would refuse
// of each message: a missing exchange (a passive declare on a channel of
// its own), a default-exchange key naming no queue, and, through the
// management API, a routing key no binding routes. Messages that would
// fail move to Failed; notes[i] says what could not be checked of
// Replayed[i].
func (b *broker) checkReplay(ctx context.Context, dlq string, res deadletter.ReplayResult) (deadletter.ReplayResult, map[int]string, error) {
	type verdict struct {
		note string
		err  error
	}
	seen := map[[2]string]verdict{}
	out := deadletter.ReplayResult{DryRun: true, Failed: res.Failed}
	notes := map[int]string{}
	for _, e := range res.Replayed {
		k := [2]string{e.OriginalExchange, e.OriginalRoutingKey}
		v, ok := seen[k]
		if !ok {
			var err error
			v.note, v.err, err = b.wouldRoute(ctx, k[0], k[1])
			if err != nil {
				return res, nil, err
			}
			seen[k] = v
		}
		if v.err != nil {
			out.Failed = append(out.Failed, deadletter.ReplayFailure{Entry: e, Err: v.err})
			continue
		}
		if v.note != "" {
			notes[len(out.Replayed)] = v.note
		}
		out.Replayed = append(out.Replayed, e)
	}
	if len(out.Failed) > 0 {
		return out, notes, fmt.Errorf("dry run: %d of %d messages would not be replayed from %q, first: %w",
			len(out.Failed), len(out.Failed)+len(out.Replayed), dlq, out.Failed[0].Err)
	}
	return out, notes, nil
}

// wouldRoute says whether a publish to exchange with key would reach a
// queue: refusal is what the broker would refuse, note what could not be
// checked, err a failure to ask.
func (b *broker) wouldRoute(ctx context.Context, exchange, key string) (note string, refusal, err error) {
	if exchange == "" {
		ok, err := b.queueExists(key)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			return "", fmt.Errorf("%w: the default exchange routes to queue %q, which does not exist", warren.ErrUnroutable, key), nil
		}
		return "", nil, nil
	}
	ok, err := b.exchangeExists(exchange)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", fmt.Errorf("exchange %q does not exist", exchange), nil
	}
	if up, _ := b.mgmt.available(ctx); !up {
		return noRoutingCheck, nil, nil
	}
	routed, unknown, err := b.routes(ctx, exchange, key, 0)
	switch {
	case err != nil:
		return "", nil, err
	case unknown != "":
		return "routing not checked: " + unknown, nil, nil
	case !routed:
		return "", fmt.Errorf("%w: no binding of exchange %q routes key %q", warren.ErrUnroutable, exchange, key), nil
	}
	return "", nil, nil
}

// maxExchangeHops bounds the exchange-to-exchange bindings and alternate
// exchanges routes follows.
const maxExchangeHops = 8

// routes reports whether exchange routes key to a queue, following
// exchange-to-exchange bindings and the alternate exchange. unknown says
// why it cannot be told (a headers exchange routes by headers).
func (b *broker) routes(ctx context.Context, exchange, key string, hops int) (routed bool, unknown string, err error) {
	if hops > maxExchangeHops {
		return false, fmt.Sprintf("more than %d exchange hops from %q", maxExchangeHops, exchange), nil
	}
	x, ok, err := b.mgmt.exchange(ctx, exchange)
	if err != nil || !ok {
		return false, "", err
	}
	if x.Type == warren.KindHeaders {
		return false, fmt.Sprintf("exchange %q is a headers exchange", exchange), nil
	}
	bindings, err := b.mgmt.bindingsFrom(ctx, exchange)
	if err != nil {
		return false, "", err
	}
	for _, bd := range bindings {
		if !bindingMatches(x.Type, bd.RoutingKey, key) {
			continue
		}
		if bd.DestinationType != "exchange" {
			return true, "", nil
		}
		if routed, unknown, err := b.routes(ctx, bd.Destination, key, hops+1); err != nil || routed || unknown != "" {
			return routed, unknown, err
		}
	}
	if ae, ok := x.Arguments["alternate-exchange"].(string); ok && ae != "" {
		return b.routes(ctx, ae, key, hops+1)
	}
	return false, "", nil
}

// bindingMatches reports whether a binding with bindingKey on an exchange
// of kind routes key.
func bindingMatches(kind, bindingKey, key string) bool {
	switch kind {
	case warren.KindFanout:
		return true
	case warren.KindTopic:
		p, err := warren.ParsePattern(bindingKey)
		return err == nil && p.Match(key)
	default: // direct, and the plugins' kinds routed by key
		return bindingKey == key
	}
}
