package main

import (
	"slices"
	"strings"

	"github.com/warren-mq/warren/bench/benchkit"
)

// kinds are the benchmark kinds (top-level names) in table order.
var kinds = []string{"TargetConsume", "TargetPublish", "Consume", "Publish"}

// titles head each kind's table.
var titles = map[string]string{
	"TargetConsume": "Targets (issue 3): consume 100,000 queued messages",
	"TargetPublish": "Targets (issue 3): publish 100,000 messages with confirms",
	"Consume":       "Sweep: consume",
	"Publish":       "Sweep: publish with confirms",
}

// baselines are the libraries ratios are taken against, per kind: raw
// amqp091-go acking each message, and publishing with pipelined confirms.
var baselines = map[string]string{
	"TargetConsume": "raw-ack", "Consume": "raw-ack",
	"TargetPublish": "raw", "Publish": "raw",
}

// libOrder is the order of libraries within a scenario; others follow in
// the order they were first seen.
var libOrder = []string{"raw-ack", "raw-multiack", "raw-autoack", "raw", "warren", "watermill", "gorabbitmq"}

// scenarioOrder returns the scenarios of kind in benchkit's order, then any
// others (a library's own scenarios) as first seen.
func (s *resultSet) scenarioOrder(kind string) []string {
	var known []string
	consume := map[string][]benchkit.ConsumeScenario{
		"TargetConsume": benchkit.TargetConsumeScenarios, "Consume": benchkit.ConsumeScenarios}
	publish := map[string][]benchkit.PublishScenario{
		"TargetPublish": benchkit.TargetPublishScenarios, "Publish": benchkit.PublishScenarios}
	for _, sc := range consume[kind] {
		known = append(known, sc.Name())
	}
	for _, sc := range publish[kind] {
		known = append(known, sc.Name())
	}
	seen := map[string]bool{}
	for _, k := range s.order {
		if k.kind == kind {
			seen[k.scenario] = true
		}
	}
	var out []string
	for _, sc := range known {
		if seen[sc] {
			out = append(out, sc)
			delete(seen, sc)
		}
	}
	for _, k := range s.order {
		if k.kind == kind && seen[k.scenario] {
			out = append(out, k.scenario)
			delete(seen, k.scenario)
		}
	}
	return out
}

// libs returns the libraries measured in a scenario, in table order.
func (s *resultSet) libs(kind, scenario string) []string {
	var found []string
	for _, k := range s.order {
		if k.kind == kind && k.scenario == scenario {
			found = append(found, k.lib)
		}
	}
	rank := func(lib string) int {
		if i := slices.Index(libOrder, lib); i >= 0 {
			return i
		}
		if strings.HasPrefix(lib, "warren") {
			return slices.Index(libOrder, "warren")
		}
		return len(libOrder)
	}
	slices.SortStableFunc(found, func(a, b string) int { return rank(a) - rank(b) })
	return found
}
