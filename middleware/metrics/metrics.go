// Package metrics exports Prometheus metrics for warren consumers and
// publishers. Metrics is both a middleware (handler duration, messages in
// flight) and a warren.Observer (everything only the transport knows: the
// final settlement, retries, dead-letters, publishes, connections).
//
// Metric names, with the default namespace "warren", and their labels:
//
//	warren_messages_consumed_total{queue,route,outcome}   counter   ObserveSettle
//	warren_handler_duration_seconds{queue,route}          histogram Middleware
//	warren_messages_in_flight{queue}                      gauge     Middleware
//	warren_retries_total{queue,route,delayed}             counter   ObserveRetry
//	warren_dead_lettered_total{queue,reason}              counter   ObserveSettle
//	warren_published_total{exchange,outcome}              counter   ObservePublish
//	warren_publish_duration_seconds{exchange,outcome}     histogram ObservePublish
//	warren_reconnects_total{connection}                   counter   ObserveConnection
//	warren_connection_up{connection}                      gauge     ObserveConnection
//	warren_build_info{version,goversion}                  gauge     always 1
//
// Labels are bounded: route is the matched route's pattern, "(none)" for
// messages no route matched (NotFound); outcome is the settlement performed
// (ack, retry, dead-letter, requeue, drop) for consumed messages and ok or
// error for publishes; exchange is "(default)" for the default exchange
// (replies). Routing keys and message ids are never labels.
package metrics

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warren-mq/warren"
)

// Metrics holds warren's Prometheus collectors. Use Middleware on the
// router and give Metrics to the transport as its warren.Observer (alone or
// in a warren.Observers):
//
//	m, err := metrics.New(metrics.WithRegisterer(reg))
//	r.Use(m.Middleware())
//
// A router served without a transport (warrentest) records handler
// duration and in-flight only: the consumed, retry and dead-letter counts
// come from the transport's events, which know the final settlement.
type Metrics struct {
	consumed, retries, deadLettered, published, reconnects *prometheus.CounterVec
	handlerDuration, publishDuration                       *prometheus.HistogramVec
	inFlight, connUp                                       *prometheus.GaugeVec

	mu     sync.Mutex // guards conns and writers of series
	conns  map[string]connSeen
	series atomic.Pointer[map[seriesKey]*series]
}

var _ warren.Observer = (*Metrics)(nil)

// New creates the metrics and registers them on the configured Registerer
// (prometheus.DefaultRegisterer unless WithRegisterer). If any fails to
// register, for instance because New already ran on that Registerer, it
// unregisters those it registered and returns the error.
func New(opts ...Option) (*Metrics, error) {
	c := newConfig(opts)
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: c.namespace, Name: name, Help: help, ConstLabels: c.constLabels}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: c.namespace, Name: name, Help: help, ConstLabels: c.constLabels}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: c.namespace, Name: name, Help: help, ConstLabels: c.constLabels, Buckets: buckets}, labels)
	}
	m := &Metrics{
		consumed:        counter("messages_consumed_total", "Messages settled, by the settlement performed.", "queue", "route", "outcome"),
		handlerDuration: histogram("handler_duration_seconds", "Time from dispatch to the handler's return.", c.handlerBuckets, "queue", "route"),
		inFlight:        gauge("messages_in_flight", "Messages being handled.", "queue"),
		retries:         counter("retries_total", "Retries of failed messages, in place or delayed through a wait queue.", "queue", "route", "delayed"),
		deadLettered:    counter("dead_lettered_total", "Messages dead-lettered, by reason.", "queue", "reason"),
		published:       counter("published_total", "Publishes confirmed (ok) or failed (error).", "exchange", "outcome"),
		publishDuration: histogram("publish_duration_seconds", "Time from publish to the broker's confirm or the failure.", c.publishBuckets, "exchange", "outcome"),
		reconnects:      counter("reconnects_total", "Connections re-established after being lost.", "connection"),
		connUp:          gauge("connection_up", "1 while the connection is open, 0 otherwise.", "connection"),
		conns:           map[string]connSeen{},
	}
	m.series.Store(&map[seriesKey]*series{})
	version, goVersion := buildInfo()
	info := gauge("build_info", "Always 1; its labels are the warren module version and the Go version that built the binary.", "version", "goversion")
	info.WithLabelValues(version, goVersion).Set(1)
	cs := []prometheus.Collector{info, m.consumed, m.handlerDuration, m.inFlight, m.retries, m.deadLettered,
		m.published, m.publishDuration, m.reconnects, m.connUp}
	for i, col := range cs {
		if err := c.reg.Register(col); err != nil {
			for _, done := range cs[:i] {
				c.reg.Unregister(done)
			}
			return nil, err
		}
	}
	return m, nil
}

// buildInfo returns the version of warren's module in the running binary
// ("devel" when built from a checkout of warren) and the Go version.
func buildInfo() (version, goVersion string) {
	version, goVersion = "devel", runtime.Version()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, goVersion
	}
	goVersion = bi.GoVersion
	for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
		if m.Path == "github.com/warren-mq/warren" && m.Version != "" && m.Version != "(devel)" {
			version = m.Version
		}
	}
	return version, goVersion
}

func routeLabel(pattern string) string {
	if pattern == "" {
		return "(none)"
	}
	return pattern
}
