package main

import (
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/deadletter"
)

// broker is a command's connection to RabbitMQ, and to its management API
// when that can be reached.
type broker struct {
	conn      *amqp.Connection
	inspector *deadletter.Inspector
	mgmt      *management // nil when turned off
}

// connect dials url and prepares the management client (mgmtURL, "" for
// the default next to the broker, "off" for none). Whether the management
// API answers is found out on first use.
func connect(url, name, mgmtURL string) (*broker, error) {
	conn, uri, err := dial(url, name)
	if err != nil {
		return nil, err
	}
	b := &broker{conn: conn, inspector: deadletter.NewInspector(conn)}
	if mgmtURL != "off" {
		b.mgmt = newManagement(uri, mgmtURL)
	}
	return b, nil
}

func (b *broker) close() {
	_ = b.conn.Close()
	if b.mgmt != nil {
		b.mgmt.client.CloseIdleConnections()
	}
}

// errNotFound is what a passive declare of a missing exchange or queue
// ends in.
var errNotFound = errors.New("not found")

// passive runs fn on a channel of its own: a passive declare that fails
// closes its channel, so none is reused.
func (b *broker) passive(fn func(ch *amqp.Channel) error) error {
	ch, err := b.conn.Channel()
	if err != nil {
		return fmt.Errorf("open a channel: %w", err)
	}
	defer ch.Close()
	err = fn(ch)
	var aerr *amqp.Error
	if errors.As(err, &aerr) && aerr.Code == amqp.NotFound {
		return errNotFound
	}
	return err
}

// exchangeExists reports whether the exchange exists. The default
// exchange ("") always does.
func (b *broker) exchangeExists(name string) (bool, error) {
	if name == "" || name == "amq.default" {
		return true, nil
	}
	err := b.passive(func(ch *amqp.Channel) error {
		return ch.ExchangeDeclarePassive(name, amqp.ExchangeTopic, false, false, false, false, nil)
	})
	if errors.Is(err, errNotFound) {
		return false, nil
	}
	return err == nil, err
}

// queueExists reports whether the queue exists.
func (b *broker) queueExists(name string) (bool, error) {
	err := b.passive(func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(name, false, false, false, false, nil)
		return err
	})
	if errors.Is(err, errNotFound) {
		return false, nil
	}
	return err == nil, err
}
