package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warren-mq/warren"
)

// Middleware records each message's handler duration in
// warren_handler_duration_seconds{queue,route} and counts it in
// warren_messages_in_flight{queue} while its handler runs:
//
//	m, err := metrics.New(metrics.WithRegisterer(reg))
//	r.Use(m.Middleware())
//
// A panic passing through is recorded too. Mount it on the root router so
// that NotFound is measured as well, with route "(none)".
func (m *Metrics) Middleware() warren.Middleware {
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) error {
			s := m.seriesFor(msg.Queue, msg.Route)
			s.inFlight.Inc()
			start := time.Now()
			defer func() {
				s.duration.Observe(time.Since(start).Seconds())
				s.inFlight.Dec()
			}()
			return next.ServeMessage(ctx, msg)
		})
	}
}

// series are the middleware's metrics for one queue and route, looked up
// once and kept in a copy-on-write map: the hot path reads it without a
// lock and without hashing label values.
type series struct {
	inFlight prometheus.Gauge
	duration prometheus.Observer
}

type seriesKey struct{ queue, pattern string }

// maxSeries bounds the cache; past it, lookups go to the vectors.
const maxSeries = 1024

func (m *Metrics) seriesFor(queue, pattern string) *series {
	k := seriesKey{queue, pattern}
	if s, ok := (*m.series.Load())[k]; ok {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.series.Load()
	if s, ok := old[k]; ok {
		return s
	}
	s := &series{
		inFlight: m.inFlight.WithLabelValues(queue),
		duration: m.handlerDuration.WithLabelValues(queue, routeLabel(pattern)),
	}
	if len(old) < maxSeries {
		next := make(map[seriesKey]*series, len(old)+1)
		for k, v := range old {
			next[k] = v
		}
		next[k] = s
		m.series.Store(&next)
	}
	return s
}
