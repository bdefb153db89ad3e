package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// family gathers reg and returns the metric family called name.
func family(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// byLabels indexes a family's metrics by their label values joined with
// "/", in label-name order.
func byLabels(mf *dto.MetricFamily) map[string]*dto.Metric {
	out := map[string]*dto.Metric{}
	for _, m := range mf.GetMetric() {
		var vals []string
		for _, l := range m.GetLabel() {
			vals = append(vals, l.GetValue())
		}
		out[strings.Join(vals, "/")] = m
	}
	return out
}

func gauge(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	return byLabels(family(t, reg, name))[labels].GetGauge().GetValue()
}

func histograms(t *testing.T, reg *prometheus.Registry, name string) map[string]*dto.Histogram {
	t.Helper()
	out := map[string]*dto.Histogram{}
	for k, m := range byLabels(family(t, reg, name)) {
		out[k] = m.GetHistogram()
	}
	return out
}

// counter returns the value of the series of counter name with the given
// label values, and whether that series exists.
func counter(t *testing.T, reg *prometheus.Registry, name, labels string) (float64, bool) {
	t.Helper()
	m, ok := byLabels(family(t, reg, name))[labels]
	return m.GetCounter().GetValue(), ok
}
