package integration_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// help is the HELP text of each warren metric, for the expositions
// compared with testutil.GatherAndCompare.
var help = map[string]string{
	"warren_messages_consumed_total":  "counter Messages settled, by the settlement performed.",
	"warren_messages_in_flight":       "gauge Messages being handled.",
	"warren_retries_total":            "counter Retries of failed messages, in place or delayed through a wait queue.",
	"warren_dead_lettered_total":      "counter Messages dead-lettered, by reason.",
	"warren_published_total":          "counter Publishes confirmed (ok) or failed (error).",
	"warren_reconnects_total":         "counter Connections re-established after being lost.",
	"warren_connection_up":            "gauge 1 while the connection is open, 0 otherwise.",
	"warren_handler_duration_seconds": "histogram Time from dispatch to the handler's return.",
	"warren_publish_duration_seconds": "histogram Time from publish to the broker's confirm or the failure.",
}

// expectSeries checks that the counter or gauge name in reg has exactly
// the series given, each `label="value",...` mapped to its value.
func expectSeries(t *testing.T, reg *prometheus.Registry, name string, series map[string]float64) {
	t.Helper()
	typ, text, _ := strings.Cut(help[name], " ")
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
	for _, labels := range slices.Sorted(maps.Keys(series)) {
		fmt.Fprintf(&b, "%s{%s} %v\n", name, labels, series[labels])
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(b.String()), name); err != nil {
		t.Errorf("%s:\n%v", name, err)
	}
}

// sampleCounts returns the sample count of each series of histogram name,
// keyed by its label values joined with "/" in label-name order.
func sampleCounts(t *testing.T, reg *prometheus.Registry, name string) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, l := range m.GetLabel() {
				vals = append(vals, l.GetValue())
			}
			out[strings.Join(vals, "/")] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// value returns the value of the counter or gauge series of name whose
// label values, joined with "/" in label-name order, are labels; 0 if it
// does not exist.
func value(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, l := range m.GetLabel() {
				vals = append(vals, l.GetValue())
			}
			if strings.Join(vals, "/") == labels {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// total sums every series of counter name.
func total(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
