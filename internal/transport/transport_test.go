package transport

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

type msg struct{ key, queue string }

func TestSetThenGetReturnsTheHooksOfThatType(t *testing.T) {
	released := 0
	Set(Hooks[*msg]{
		Acquire:      func() *msg { return &msg{} },
		Release:      func(*msg) { released++ },
		FromDelivery: func(m *msg, d *amqp.Delivery, q string) { m.key, m.queue = d.RoutingKey, q },
	})
	h := Get[*msg]()
	m := h.Acquire()
	h.FromDelivery(m, &amqp.Delivery{RoutingKey: "k"}, "q")
	h.Release(m)
	if m.key != "k" || m.queue != "q" || released != 1 {
		t.Fatalf("hooks not the registered ones: %+v, released %d", m, released)
	}
}

func TestGetPanicsForATypeWithoutHooks(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Get of an unregistered type did not panic")
		}
	}()
	Get[*struct{ unregistered bool }]()
}

func TestSetRejectsMissingHooks(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Set with a nil hook did not panic")
		}
	}()
	Set(Hooks[*msg]{Acquire: func() *msg { return nil }})
}
