package metrics

import "github.com/prometheus/client_golang/prometheus"

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	reg            prometheus.Registerer
	namespace      string
	constLabels    prometheus.Labels
	handlerBuckets []float64
	publishBuckets []float64
}

func newConfig(opts []Option) config {
	c := config{
		reg:            prometheus.DefaultRegisterer,
		namespace:      "warren",
		handlerBuckets: prometheus.DefBuckets,
		publishBuckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// WithRegisterer registers the metrics on r instead of
// prometheus.DefaultRegisterer; a prometheus.NewRegistry() in tests.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *config) { c.reg = r })
}

// WithNamespace replaces the "warren" prefix of every metric name; an empty
// namespace leaves names unprefixed (messages_consumed_total, ...).
func WithNamespace(ns string) Option {
	return optionFunc(func(c *config) { c.namespace = ns })
}

// WithConstLabels adds labels with fixed values to every metric, such as
// the service's name.
func WithConstLabels(l prometheus.Labels) Option {
	return optionFunc(func(c *config) { c.constLabels = l })
}

// WithHandlerBuckets sets the buckets, in seconds, of the handler duration
// histogram; prometheus.DefBuckets by default.
func WithHandlerBuckets(b []float64) Option {
	return optionFunc(func(c *config) { c.handlerBuckets = b })
}

// WithPublishBuckets sets the buckets, in seconds, of the publish duration
// histogram; 0.5 ms to 5 s by default.
func WithPublishBuckets(b []float64) Option {
	return optionFunc(func(c *config) { c.publishBuckets = b })
}
