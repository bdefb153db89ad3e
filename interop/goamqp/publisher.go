package goamqp

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Publisher is goamqp's Publisher: bound to one exchange, the routing key
// picked by the message's type.
type Publisher struct {
	peer     *Peer
	exchange string
	keys     map[reflect.Type]string
}

// EventStreamPublisher declares events.topic.exchange and returns a
// publisher to it; routes maps routing keys to value types.
func (p *Peer) EventStreamPublisher(routes map[string]any) (*Publisher, error) {
	if err := p.declareExchange(EventExchange, amqp.ExchangeTopic); err != nil {
		return nil, err
	}
	return p.newPublisher(EventExchange, routes), nil
}

// ServicePublisher declares target's request exchange and returns a
// publisher to it.
func (p *Peer) ServicePublisher(target string, routes map[string]any) (*Publisher, error) {
	if err := p.declareExchange(RequestExchange(target), amqp.ExchangeDirect); err != nil {
		return nil, err
	}
	return p.newPublisher(RequestExchange(target), routes), nil
}

func (p *Peer) newPublisher(exchange string, routes map[string]any) *Publisher {
	keys := map[reflect.Type]string{}
	for k, v := range routes {
		keys[reflect.TypeOf(v)] = k
	}
	return &Publisher{peer: p, exchange: exchange, keys: keys}
}

// Publish publishes msg (a value or a pointer) with its type's key, JSON,
// persistent, with the header service=<own name>, and waits for the
// broker's confirm.
func (pub *Publisher) Publish(_ context.Context, msg any) error {
	t := reflect.TypeOf(msg)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	key, ok := pub.keys[t]
	if !ok {
		return fmt.Errorf("no routingkey configured for message of type %s", t)
	}
	return pub.peer.publish(pub.exchange, key, msg, amqp.Table{HeaderService: pub.peer.Service})
}

// publish is goamqp's publishMessage, with a confirm.
func (p *Peer) publish(exchange, key string, msg any, headers amqp.Table) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	conf, err := p.pub.PublishWithDeferredConfirm(exchange, key, false, false, amqp.Publishing{
		Body:         body,
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		Headers:      headers,
	})
	if err != nil {
		return err
	}
	if !conf.Wait() {
		return fmt.Errorf("publish to %s [%s] nacked", exchange, key)
	}
	return nil
}
