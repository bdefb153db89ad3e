package asyncapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/warren-mq/warren"
)

// Version is the AsyncAPI version of the documents this package writes.
const Version = "3.0.0"

// bindingVersion is the version of the AMQP bindings written.
const bindingVersion = "0.3.0"

// Option configures a document.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	title, version, description string
	host, vhost                 string
}

// WithTitle sets info.title (default: the service's name).
func WithTitle(title string) Option { return optionFunc(func(c *config) { c.title = title }) }

// WithVersion sets info.version, the version of the service's API
// (default "0.0.0").
func WithVersion(v string) Option { return optionFunc(func(c *config) { c.version = v }) }

// WithDescription sets info.description.
func WithDescription(s string) Option { return optionFunc(func(c *config) { c.description = s }) }

// WithServer adds a server "rabbitmq" at host ("broker:5672"), protocol
// amqp, and sets the vhost the bindings name (default "/").
func WithServer(host, vhost string) Option {
	return optionFunc(func(c *config) { c.host, c.vhost = host, vhost })
}

// object is a JSON object of the document.
type object = map[string]any

// Document returns the AsyncAPI 3.0 document of the service d describes,
// ready for encoding/json.
func Document(d warren.Description, opts ...Option) (map[string]any, error) {
	c := config{title: d.Service, version: "0.0.0", vhost: "/"}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.title == "" {
		return nil, errors.New("warren/asyncapi: the description has no service name: set one, or WithTitle")
	}
	b := newBuilder(d, c)
	if err := b.receives(); err != nil {
		return nil, err
	}
	b.sends()
	info := object{"title": c.title, "version": c.version}
	if c.description != "" {
		info["description"] = c.description
	}
	doc := object{
		"asyncapi":           Version,
		"info":               info,
		"defaultContentType": "application/json",
		"channels":           b.channels,
		"operations":         b.operations,
		"components":         object{"messages": b.messages},
	}
	if c.host != "" {
		doc["servers"] = object{"rabbitmq": object{"host": c.host, "protocol": "amqp", "pathname": c.vhost}}
	}
	return doc, nil
}

// Write writes Document(d, opts...) to w as indented JSON.
func Write(w io.Writer, d warren.Description, opts ...Option) error {
	doc, err := Document(d, opts...)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

type builder struct {
	d          warren.Description
	c          config
	channels   object
	operations object
	messages   object
	msgIDs     map[string]string // schema name + JSON -> component id
	ids        map[string]bool   // every id used, per kind prefix
}

func newBuilder(d warren.Description, c config) *builder {
	return &builder{d: d, c: c, channels: object{}, operations: object{}, messages: object{},
		msgIDs: map[string]string{}, ids: map[string]bool{}}
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_\-]+`)

// id makes a unique key for kind (channel, operation, message) from parts.
func (b *builder) id(kind string, parts ...string) string {
	base := ""
	for _, p := range parts {
		p = unsafeID.ReplaceAllStringFunc(p, func(s string) string {
			switch s {
			case "*":
				return "star"
			case "#":
				return "hash"
			}
			return "_"
		})
		if p == "" {
			continue
		}
		if base != "" {
			base += "_"
		}
		base += p
	}
	if base == "" {
		base = kind
	}
	id := base
	for n := 2; b.ids[kind+" "+id]; n++ {
		id = fmt.Sprintf("%s_%d", base, n)
	}
	b.ids[kind+" "+id] = true
	return id
}

// message returns the component id of the message with payload s (nil:
// untyped, named after fallback).
func (b *builder) message(s *warren.Schema, fallback, summary string) string {
	key := fallback
	if s != nil {
		key = s.Name + " " + string(s.JSON)
	}
	if id, ok := b.msgIDs[key]; ok {
		return id
	}
	name := fallback
	if s != nil {
		name = s.Name
	}
	id := b.id("message", name)
	m := object{"name": name, "contentType": "application/json"}
	if s != nil {
		var payload any
		if err := json.Unmarshal(s.JSON, &payload); err == nil {
			m["payload"] = payload
		}
		m["title"] = s.Name
	} else {
		m["summary"] = summary
	}
	b.messages[id] = m
	b.msgIDs[key] = id
	return id
}

// channel returns the id of the channel of exchange and key, adding it
// (with the message msgID, and the queue it is consumed from, if any).
func (b *builder) channel(exchange, key, msgID string, queue *warren.Queue) string {
	chKey := "exchange " + exchange + " key " + key
	id, ok := b.msgIDs[chKey]
	if !ok {
		id = b.id("channel", exchange, key)
		b.msgIDs[chKey] = id
		binding := object{"is": "routingKey", "exchange": b.exchange(exchange), "bindingVersion": bindingVersion}
		if args := b.exchangeArgs(exchange); len(args) > 0 {
			binding["x-exchange-arguments"] = args
		}
		b.channels[id] = object{
			"address":  key,
			"messages": object{},
			"bindings": object{"amqp": binding},
		}
	}
	ch := b.channels[id].(object)
	ch["messages"].(object)[msgID] = object{"$ref": "#/components/messages/" + msgID}
	if queue != nil {
		ch["bindings"].(object)["amqp"].(object)["x-queue"] = b.queue(*queue)
	}
	return id
}

// replyChannel returns the id of the channel a reply travels on: the
// queue the request's reply_to names, through the default exchange.
func (b *builder) replyChannel(opID, msgID string) string {
	id := b.id("channel", opID, "reply")
	b.channels[id] = object{
		"address":     nil,
		"description": "The queue the request's reply_to names (amq.rabbitmq.reply-to by default), through the default exchange, with the request's correlation_id.",
		"messages":    object{msgID: object{"$ref": "#/components/messages/" + msgID}},
		"bindings": object{"amqp": object{"is": "routingKey", "bindingVersion": bindingVersion,
			"exchange": object{"name": "", "type": "default", "vhost": b.c.vhost}}},
	}
	return id
}

func (b *builder) exchange(name string) object {
	x := object{"name": name, "type": "default", "vhost": b.c.vhost}
	if name == "" {
		return x
	}
	x["type"], x["durable"], x["autoDelete"] = warren.KindTopic, true, false
	for _, e := range b.d.Topology.Exchanges {
		if e.Name == name {
			kind := e.Kind
			if kind == "" {
				kind = warren.KindTopic
			}
			x["type"], x["durable"], x["autoDelete"] = kind, e.Durable, e.AutoDelete
		}
	}
	return x
}

func (b *builder) exchangeArgs(name string) map[string]any {
	for _, e := range b.d.Topology.Exchanges {
		if e.Name == name {
			return e.Args
		}
	}
	return nil
}

func (b *builder) queue(q warren.Queue) object {
	typ := string(q.Type)
	if typ == "" {
		typ = string(warren.Classic)
	}
	out := object{"name": q.Name, "type": typ, "durable": q.Durable, "exclusive": q.Exclusive, "autoDelete": q.AutoDelete, "vhost": b.c.vhost}
	if len(q.Args) > 0 {
		out["arguments"] = q.Args
	}
	return out
}

func (b *builder) findQueue(name string) *warren.Queue {
	for i := range b.d.Topology.Queues {
		if b.d.Topology.Queues[i].Name == name {
			return &b.d.Topology.Queues[i]
		}
	}
	return &warren.Queue{Name: name}
}

// receives adds a receive operation per route, on the channel of each
// binding that delivers it.
func (b *builder) receives() error {
	payloads := map[string]warren.RoutePayload{}
	for _, p := range b.d.Payloads {
		payloads[p.Pattern] = p
	}
	for _, pattern := range b.d.Routes {
		bindings := b.bindingsFor(pattern)
		if len(bindings) == 0 {
			return fmt.Errorf("warren/asyncapi: route %q: no binding of the topology delivers it", pattern)
		}
		p := payloads[pattern]
		msgID := b.message(p.Payload, pattern, "A message on "+pattern+" (untyped route: any body).")
		for _, bd := range bindings {
			chID := b.channel(bd.Exchange, bd.Key, msgID, b.findQueue(bd.Queue))
			op := object{
				"action":   "receive",
				"channel":  object{"$ref": "#/channels/" + chID},
				"messages": []any{object{"$ref": "#/channels/" + chID + "/messages/" + msgID}},
				"summary":  "Route " + pattern + " consumed from queue " + bd.Queue + ".",
				"bindings": object{"amqp": object{"ack": true, "bindingVersion": bindingVersion}},
			}
			opID := b.id("operation", "receive", bd.Exchange, pattern)
			if p.Reply != nil {
				op["reply"] = b.reply(opID, p.Reply)
			}
			b.operations[opID] = op
		}
	}
	return nil
}

// bindingsFor returns the bindings that deliver pattern's messages: those
// with the pattern as key, else those of fanout exchanges.
func (b *builder) bindingsFor(pattern string) []warren.Binding {
	var out, fanout []warren.Binding
	for _, bd := range b.d.Topology.Bindings {
		switch {
		case bd.Key == pattern:
			out = append(out, bd)
		case b.exchange(bd.Exchange)["type"] == warren.KindFanout:
			fanout = append(fanout, bd)
		}
	}
	if len(out) == 0 {
		return fanout
	}
	return out
}

func (b *builder) reply(opID string, s *warren.Schema) object {
	msgID := b.message(s, s.Name, "")
	chID := b.replyChannel(opID, msgID)
	return object{
		"address":  object{"location": "$message.header#/reply_to", "description": "The request's reply_to property."},
		"channel":  object{"$ref": "#/channels/" + chID},
		"messages": []any{object{"$ref": "#/channels/" + chID + "/messages/" + msgID}},
	}
}

// sends adds a send operation per message the service publishes.
func (b *builder) sends() {
	for _, s := range b.d.Sends {
		msgID := b.message(s.Payload, s.Key, "A message sent with key "+s.Key+".")
		chID := b.channel(s.Exchange, s.Key, msgID, nil)
		op := object{
			"action":   "send",
			"channel":  object{"$ref": "#/channels/" + chID},
			"messages": []any{object{"$ref": "#/channels/" + chID + "/messages/" + msgID}},
			"bindings": object{"amqp": object{"deliveryMode": 2, "mandatory": true, "bindingVersion": bindingVersion}},
		}
		opID := b.id("operation", "send", s.Exchange, s.Key)
		if s.Reply != nil {
			op["summary"] = "Request " + s.Key + "; the reply comes to reply_to with the request's correlation_id."
			delete(op["bindings"].(object)["amqp"].(object), "deliveryMode")
			op["reply"] = b.reply(opID, s.Reply)
		} else {
			op["summary"] = "Publishes " + s.Key + " to " + orDefault(s.Exchange) + "."
		}
		b.operations[opID] = op
	}
}

func orDefault(exchange string) string {
	if exchange == "" {
		return "the default exchange"
	}
	return exchange
}
