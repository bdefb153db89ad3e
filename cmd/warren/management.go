package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/redact"
)

// management reads RabbitMQ's management HTTP API (the rabbitmq_management
// plugin) with the AMQP URL's user and password.
type management struct {
	base       string // e.g. http://127.0.0.1:15672
	user, pass string
	vhost      string
	client     *http.Client

	once   sync.Once
	offWhy string // why the API cannot be used; "" when it can
}

// newManagement prepares a client for the management API next to the
// broker of uri (port 15672, or 15671 over TLS), or at base when given.
func newManagement(uri amqp.URI, base string) *management {
	if base == "" {
		scheme, port := "http", "15672"
		if uri.Scheme == "amqps" {
			scheme, port = "https", "15671"
		}
		base = scheme + "://" + net.JoinHostPort(uri.Host, port)
	}
	return &management{
		base: base, user: uri.Username, pass: uri.Password, vhost: uri.Vhost,
		client: &http.Client{Timeout: 5 * time.Second},
	}
}

// available reports whether the API answers, and if not, why (without
// credentials).
func (m *management) available(ctx context.Context) (bool, string) {
	if m == nil {
		return false, "the management API is turned off (--management off)"
	}
	m.once.Do(func() {
		var overview struct {
			Version string `json:"rabbitmq_version"`
		}
		if err := m.get(ctx, "/api/overview", &overview); err != nil {
			m.offWhy = fmt.Sprintf("the management API at %s cannot be read (%s)", redact.Text(m.base), message(err))
		}
	})
	return m.offWhy == "", m.offWhy
}

// errHTTPNotFound is a 404 from the API: the object does not exist.
var errHTTPNotFound = errors.New("not found")

func (m *management) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+path, nil)
	if err != nil {
		return errors.New("invalid management URL")
	}
	req.SetBasicAuth(m.user, m.pass)
	resp, err := m.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is the base's, said by the caller
		}
		return errors.New(scrub(err.Error(), m.pass))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return errHTTPNotFound
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("HTTP 401: user %q is refused (the management API needs a user tagged management or monitoring)", m.user)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v)
}

// path builds /api/<kind>/<vhost>/<name>/<rest...> with each part escaped.
func (m *management) path(kind string, parts ...string) string {
	p := "/api/" + kind + "/" + url.PathEscape(m.vhostName())
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

func (m *management) vhostName() string {
	if m.vhost == "" {
		return "/"
	}
	return m.vhost
}

// mgmtExchange is an exchange as the API lists it.
type mgmtExchange struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Arguments  map[string]any `json:"arguments"`
}

// mgmtQueue is a queue as the API lists it.
type mgmtQueue struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Exclusive  bool           `json:"exclusive"`
	Arguments  map[string]any `json:"arguments"`
}

// mgmtBinding is a binding as the API lists it.
type mgmtBinding struct {
	Source          string         `json:"source"`
	Destination     string         `json:"destination"`
	DestinationType string         `json:"destination_type"` // queue or exchange
	RoutingKey      string         `json:"routing_key"`
	Arguments       map[string]any `json:"arguments"`
}

func apiExchangeName(name string) string {
	if name == "" {
		return "amq.default"
	}
	return name
}

// exchange returns the exchange, and false if it does not exist.
func (m *management) exchange(ctx context.Context, name string) (mgmtExchange, bool, error) {
	var x mgmtExchange
	err := m.get(ctx, m.path("exchanges", apiExchangeName(name)), &x)
	if errors.Is(err, errHTTPNotFound) {
		return x, false, nil
	}
	return x, err == nil, err
}

// queue returns the queue, and false if it does not exist.
func (m *management) queue(ctx context.Context, name string) (mgmtQueue, bool, error) {
	var q mgmtQueue
	err := m.get(ctx, m.path("queues", name), &q)
	if errors.Is(err, errHTTPNotFound) {
		return q, false, nil
	}
	return q, err == nil, err
}

// bindingsFrom returns the bindings whose source is the exchange.
func (m *management) bindingsFrom(ctx context.Context, exchange string) ([]mgmtBinding, error) {
	var bs []mgmtBinding
	err := m.get(ctx, m.path("exchanges", apiExchangeName(exchange), "bindings", "source"), &bs)
	return bs, err
}

// bindingsTo returns the bindings whose destination is the queue.
func (m *management) bindingsTo(ctx context.Context, queue string) ([]mgmtBinding, error) {
	var bs []mgmtBinding
	err := m.get(ctx, m.path("queues", queue, "bindings"), &bs)
	return bs, err
}
