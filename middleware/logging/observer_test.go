package logging_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware/logging"
)

func newObserver() (*logging.Observer, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return logging.NewObserver(zap.New(core)), logs
}

func TestObserverConnection(t *testing.T) {
	o, logs := newObserver()
	down := errors.New(`Exception (501) "dial amqp://app:hunter2@rabbit/": connection reset`)
	o.ObserveConnection(warren.ConnectionEvent{Name: "orders.consume", State: warren.ConnUp})
	o.ObserveConnection(warren.ConnectionEvent{Name: "orders.consume", State: warren.ConnDown, Attempt: 2, Err: down})
	o.ObserveConnection(warren.ConnectionEvent{Name: "orders.consume", State: warren.ConnUp, Attempt: 3})
	o.ObserveConnection(warren.ConnectionEvent{Name: "orders.consume", State: warren.ConnClosed})
	want := []struct {
		level zapcore.Level
		msg   string
	}{
		{zapcore.InfoLevel, "connection up"},
		{zapcore.WarnLevel, "connection down"},
		{zapcore.InfoLevel, "connection recovered"},
		{zapcore.InfoLevel, "connection closed"},
	}
	all := logs.All()
	if len(all) != len(want) {
		t.Fatalf("%d lines, want %d", len(all), len(want))
	}
	for i, w := range want {
		if all[i].Level != w.level || all[i].Message != w.msg || all[i].ContextMap()["connection"] != "orders.consume" {
			t.Errorf("line %d = %v %q %v, want %v %q", i, all[i].Level, all[i].Message, all[i].ContextMap(), w.level, w.msg)
		}
	}
	m := all[1].ContextMap()
	if s := m["error"].(string); strings.Contains(s, "hunter2") || !strings.Contains(s, "connection reset") {
		t.Errorf("down error = %q: leaks the password or loses the message", s)
	}
	if m["attempt"] != int64(2) {
		t.Errorf("attempt = %v, want 2", m["attempt"])
	}
}

func TestObserverPublishAndSettle(t *testing.T) {
	o, logs := newObserver()
	o.ObservePublish(warren.PublishEvent{Exchange: "events", RoutingKey: "a", Duration: time.Millisecond})
	o.ObservePublish(warren.PublishEvent{Exchange: "events", RoutingKey: "b", Err: errors.New("nack")})
	o.ObserveSettle(warren.SettleEvent{Queue: "q", Action: warren.ActionAck})
	o.ObserveSettle(warren.SettleEvent{Queue: "q", Action: warren.ActionDeadLetter, Reason: warren.ReasonPermanent})
	o.ObserveSettle(warren.SettleEvent{Queue: "q", Route: "a.*", Action: warren.ActionDeadLetter, Reason: warren.ReasonError, Attempt: 5, Err: errors.New("db")})
	o.ObserveRetry(warren.RetryEvent{Queue: "q", Attempt: 1, Delay: time.Second, Delayed: true})
	all := logs.All()
	if len(all) != 3 {
		t.Fatalf("lines %v, want a publish failure, a policy dead-letter and a retry", all)
	}
	if all[0].Level != zapcore.ErrorLevel || all[0].Message != "publish failed" || all[0].ContextMap()["routing_key"] != "b" {
		t.Errorf("line 0 = %v %q %v", all[0].Level, all[0].Message, all[0].ContextMap())
	}
	if m := all[1].ContextMap(); all[1].Level != zapcore.ErrorLevel || m["reason"] != "error" || m["attempt"] != int64(5) || m["route"] != "a.*" {
		t.Errorf("line 1 = %v %q %v", all[1].Level, all[1].Message, m)
	}
	if all[2].Level != zapcore.DebugLevel || all[2].ContextMap()["delayed"] != true {
		t.Errorf("line 2 = %v %q %v", all[2].Level, all[2].Message, all[2].ContextMap())
	}
}

type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

func TestObserverNeverPanics(t *testing.T) {
	var typedNil *nilErr
	events := func(o warren.Observer) {
		o.ObserveConnection(warren.ConnectionEvent{State: warren.ConnDown, Err: typedNil})
		o.ObservePublish(warren.PublishEvent{Err: typedNil})
		o.ObserveSettle(warren.SettleEvent{Action: warren.ActionDeadLetter, Reason: warren.ReasonError, Err: typedNil})
		o.ObserveRetry(warren.RetryEvent{})
	}
	var nilObs *logging.Observer
	o, logs := newObserver()
	events(warren.Observers{nilObs, logging.NewObserver(nil), &logging.Observer{}, o})
	if logs.Len() != 4 || !strings.Contains(logs.All()[0].ContextMap()["error"].(string), "panicked") {
		t.Fatalf("lines %v", logs.All())
	}
}
