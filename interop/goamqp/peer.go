package goamqp

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// HandlerFunc is goamqp's handler: msg is a pointer to the registered
// type; a non-nil response answers a request (RequestResponseHandler only).
type HandlerFunc func(msg any, headers map[string]any) (response any, err error)

// Peer is one goamqp service on one connection. Like goamqp it declares on
// one channel and consumes with prefetch 20 (global); unlike goamqp it
// publishes on a confirm channel, so tests know what the broker took.
type Peer struct {
	Service string

	conn    *amqp.Connection
	setup   *amqp.Channel // declarations and consuming, as goamqp's one channel
	pubMu   sync.Mutex
	pub     *amqp.Channel                 // confirm mode
	queues  map[string]map[string]binding // queue -> routing key -> handler
	order   []string
	started bool
	wg      sync.WaitGroup
}

type binding struct {
	typ     reflect.Type
	handler HandlerFunc
}

// Dial connects service to the broker at url.
func Dial(url, service string) (*Peer, error) {
	cfg := amqp.Config{Properties: amqp.NewConnectionProperties()}
	cfg.Properties.SetClientConnectionName(service + ".goamqp-peer")
	conn, err := amqp.DialConfig(url, cfg)
	if err != nil {
		return nil, err
	}
	p := &Peer{Service: service, conn: conn, queues: map[string]map[string]binding{}}
	if p.setup, err = conn.Channel(); err == nil {
		err = p.setup.Qos(20, 0, true)
	}
	if err == nil {
		if p.pub, err = conn.Channel(); err == nil {
			err = p.pub.Confirm(false)
		}
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return p, nil
}

// Close closes the connection and waits for the consumers to stop.
func (p *Peer) Close() error {
	err := p.conn.Close()
	p.wg.Wait()
	if errors.Is(err, amqp.ErrClosed) {
		return nil
	}
	return err
}

func (p *Peer) declareExchange(name, kind string) error {
	return p.setup.ExchangeDeclare(name, kind, true, false, false, false, nil)
}

// declareQueue declares a goamqp durable queue: x-expires, nothing else.
func (p *Peer) declareQueue(name string) error {
	_, err := p.setup.QueueDeclare(name, true, false, false, false, amqp.Table{"x-expires": QueueExpires})
	return err
}

// bindQueue is goamqp's messageHandlerBindQueueToExchange.
func (p *Peer) bindQueue(exchange, kind, queue, key string, args amqp.Table, typ any, h HandlerFunc) error {
	if p.started {
		return errors.New("goamqp peer: already started")
	}
	t := reflect.TypeOf(typ)
	if t == nil || t.Kind() == reflect.Pointer {
		return fmt.Errorf("goamqp peer: give a value type, not %T", typ)
	}
	hs := p.queues[queue]
	if hs == nil {
		hs = map[string]binding{}
		p.queues[queue] = hs
		p.order = append(p.order, queue)
	}
	if _, dup := hs[key]; dup {
		return fmt.Errorf("goamqp peer: routing key %s already has a handler on %s", key, queue)
	}
	hs[key] = binding{typ: t, handler: h}
	if err := p.declareExchange(exchange, kind); err != nil {
		return err
	}
	if err := p.declareQueue(queue); err != nil {
		return err
	}
	if args == nil {
		args = amqp.Table{}
	}
	return p.setup.QueueBind(queue, key, exchange, false, args)
}

// EventStreamConsumer is goamqp's EventStreamConsumer: queue
// events.topic.exchange.queue.<service>, bound with key.
func (p *Peer) EventStreamConsumer(key string, typ any, h HandlerFunc) error {
	return p.bindQueue(EventExchange, amqp.ExchangeTopic, EventQueue(EventExchange, p.Service), key, nil, typ, h)
}

// ServiceRequestConsumer is goamqp's: it declares the own response exchange,
// then the request exchange and queue, bound with key.
func (p *Peer) ServiceRequestConsumer(key string, typ any, h HandlerFunc) error {
	if err := p.declareExchange(ResponseExchange(p.Service), amqp.ExchangeHeaders); err != nil {
		return err
	}
	return p.bindQueue(RequestExchange(p.Service), amqp.ExchangeDirect, RequestQueue(p.Service), key, nil, typ, h)
}

// RequestResponseHandler is goamqp's: ServiceRequestConsumer whose non-nil
// response is published to the own response exchange with the routing key
// and service=<the request's service header>. A request without that
// header, or a failed publish, is a handler error (requeued).
func (p *Peer) RequestResponseHandler(key string, typ any, h HandlerFunc) error {
	return p.ServiceRequestConsumer(key, typ, func(msg any, headers map[string]any) (any, error) {
		resp, err := h(msg, headers)
		if err != nil {
			return nil, fmt.Errorf("failed to process message: %w", err)
		}
		if resp == nil {
			return nil, nil
		}
		caller, ok := headers[HeaderService].(string)
		if !ok {
			return nil, errors.New("failed to extract service name: no service found")
		}
		if err := p.publish(ResponseExchange(p.Service), key, resp, amqp.Table{HeaderService: caller}); err != nil {
			return nil, fmt.Errorf("failed to publish response: %w", err)
		}
		return resp, nil
	})
}

// ServiceResponseConsumer is goamqp's: the caller's response queue on
// target's response exchange, bound with key and {service: <own name>}.
func (p *Peer) ServiceResponseConsumer(target, key string, typ any, h HandlerFunc) error {
	return p.bindQueue(ResponseExchange(target), amqp.ExchangeHeaders, ResponseQueue(target, p.Service), key,
		amqp.Table{HeaderService: p.Service}, typ, h)
}

// Start consumes every registered queue (manual ack), one goroutine each.
func (p *Peer) Start() error {
	p.started = true
	for _, q := range p.order {
		deliveries, err := p.setup.Consume(q, "", false, false, false, false, amqp.Table{})
		if err != nil {
			return fmt.Errorf("failed to create consumer for queue %s: %w", q, err)
		}
		p.wg.Add(1)
		go p.dispatch(deliveries, p.queues[q])
	}
	return nil
}

// dispatch is goamqp's divertToMessageHandlers and handleMessage: no
// handler or an unparsable body is rejected without requeue (dropped, as
// goamqp's queues have no DLX), a handler error nacked with requeue.
func (p *Peer) dispatch(deliveries <-chan amqp.Delivery, handlers map[string]binding) {
	defer p.wg.Done()
	for d := range deliveries {
		b, ok := handlers[d.RoutingKey]
		if !ok {
			_ = d.Reject(false)
			continue
		}
		msg := reflect.New(b.typ).Interface()
		if err := json.Unmarshal(d.Body, msg); err != nil {
			_ = d.Reject(false)
			continue
		}
		headers := map[string]any{}
		for k, v := range d.Headers {
			headers[k] = v
		}
		headers["routing-key"] = d.RoutingKey
		if _, err := b.handler(msg, headers); err != nil {
			_ = d.Nack(false, true)
			continue
		}
		_ = d.Ack(false)
	}
}
