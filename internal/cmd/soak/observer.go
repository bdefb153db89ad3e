package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-mq/warren"
)

// observer counts what the transport reports: settlements by action,
// delayed retries, and lost and recovered connections, with the time each
// connection was last lost.
type observer struct {
	warren.NopObserver
	acks, retries, deadLetters, requeues atomic.Int64
	connDown, connUp                     atomic.Int64

	mu     sync.Mutex
	downAt map[string]time.Time
	upAt   map[string]time.Time
}

func (o *observer) ObserveSettle(e warren.SettleEvent) {
	switch e.Action {
	case warren.ActionAck:
		o.acks.Add(1)
	case warren.ActionRetry:
		o.retries.Add(1)
	case warren.ActionDeadLetter:
		o.deadLetters.Add(1)
	case warren.ActionRequeue:
		o.requeues.Add(1)
	}
}

func (o *observer) ObserveConnection(e warren.ConnectionEvent) {
	switch {
	case e.State == warren.ConnDown && e.Attempt == 0:
		o.connDown.Add(1)
		o.stamp(&o.downAt, e.Name)
	case e.State == warren.ConnUp:
		o.connUp.Add(1)
		o.stamp(&o.upAt, e.Name)
	}
}

// stamp records now as the time of connection name's last change in *at.
func (o *observer) stamp(at *map[string]time.Time, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if *at == nil {
		*at = map[string]time.Time{}
	}
	(*at)[name] = time.Now()
}

// outage returns how long connection name was down the last time, once it
// is up again.
func (o *observer) outage(name string) (time.Duration, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	down, up := o.downAt[name], o.upAt[name]
	return up.Sub(down), !down.IsZero() && up.After(down)
}

// lostSince returns when connection name was last lost, if that was after
// since.
func (o *observer) lostSince(name string, since time.Time) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.downAt[name]
	return t, ok && !t.Before(since)
}
