package rabbitmq

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/redact"
)

// WithEndpoints adds nodes of the same cluster to the URL Dial was given:
// the client connects to one of them, and when the node it is on is lost,
// it reconnects to the next one that answers, so losing one node of a
// cluster costs one reconnect, not an outage. Each URL carries its own
// credentials, virtual host and TLS (amqps://); WithTLS applies to every
// amqps endpoint. See WithEndpointOrder for the order they are tried in.
//
//	rabbitmq.Dial(ctx, "amqp://u:p@node1:5672/", rabbitmq.WithEndpoints(
//		"amqp://u:p@node2:5672/", "amqp://u:p@node3:5672/"))
func WithEndpoints(urls ...string) Option {
	return optionFunc(func(c *config) { c.endpoints = append(c.endpoints, urls...) })
}

// EndpointOrder is the order a client tries its endpoints in
// (WithEndpointOrder).
type EndpointOrder uint8

const (
	// EndpointsInOrder tries the endpoints as given, Dial's URL first, and
	// after a loss goes on with the one after the node it lost, wrapping
	// around.
	EndpointsInOrder EndpointOrder = iota
	// EndpointsShuffled shuffles the endpoints once per client, so that
	// the clients of many services spread over the nodes, then proceeds as
	// EndpointsInOrder on the shuffled list.
	EndpointsShuffled
)

// WithEndpointOrder sets the order the endpoints are tried in (default
// EndpointsInOrder). The consuming and the publishing connection share the
// order, so both are on the same node while it is up.
func WithEndpointOrder(o EndpointOrder) Option {
	return optionFunc(func(c *config) { c.endpointOrder = o })
}

// endpoint is one node a client may connect to.
type endpoint struct {
	url  string // as given: it may hold a password, never shown
	addr string // host:port, in connection names and Observer events
	desc string // the URL with its password masked, for errors
}

// parseEndpoints checks Dial's URL and those of WithEndpoints and returns
// them in the order the client tries them. An endpoint that does not parse
// is an error naming it (its password masked), as is an amqp:// endpoint
// with WithTLS.
func parseEndpoints(first string, cfg *config) ([]endpoint, error) {
	raws := append([]string{first}, cfg.endpoints...)
	eps := make([]endpoint, 0, len(raws))
	for i, raw := range raws {
		ep, err := parseEndpoint(raw, cfg)
		switch {
		case err == nil:
		case len(raws) == 1 && errors.Is(err, errUnparsable):
			return nil, errors.New("warren/rabbitmq: the AMQP URL does not parse (it is not shown: it may hold a password)")
		case len(raws) == 1:
			return nil, err
		default:
			return nil, fmt.Errorf("warren/rabbitmq: endpoint %d of %d (%s): %w", i+1, len(raws), describeEndpoint(raw), err)
		}
		eps = append(eps, ep)
	}
	if cfg.endpointOrder == EndpointsShuffled {
		rand.Shuffle(len(eps), func(i, j int) { eps[i], eps[j] = eps[j], eps[i] })
	}
	return eps, nil
}

// parseEndpoint refuses a URL that does not parse, without showing it
// (url.Parse errors quote the raw URL, password included), and a TLS
// configuration with a plain amqp:// URL, which would otherwise connect
// unencrypted.
func parseEndpoint(raw string, cfg *config) (endpoint, error) {
	u, err := amqp.ParseURI(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return endpoint{}, errUnparsable
		}
		return endpoint{}, fmt.Errorf("warren/rabbitmq: bad AMQP URL: %v", redact.Text(err.Error()))
	}
	if cfg.tls != nil && u.Scheme != "amqps" {
		return endpoint{}, errors.New("warren/rabbitmq: WithTLS needs an amqps:// URL; this one is amqp:// and would connect in plain text")
	}
	return endpoint{url: raw, addr: net.JoinHostPort(u.Host, strconv.Itoa(u.Port)), desc: describeEndpoint(raw)}, nil
}

// errUnparsable is a URL url.Parse refused (its error quotes the URL).
var errUnparsable = errors.New("warren/rabbitmq: the AMQP URL does not parse")

// describeEndpoint returns raw with everything between "://" and the last
// '@' but the user name masked, then redact.Text applied: it names an
// endpoint in an error even when the URL does not parse.
func describeEndpoint(raw string) string {
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	if !hasScheme {
		scheme, rest = "", raw
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, _, hasPassword := strings.Cut(rest[:at], ":")
		if hasPassword || !hasScheme {
			user += ":" + redact.Mask
		}
		rest = user + rest[at:]
	}
	if hasScheme {
		rest = scheme + "://" + rest
	}
	return redact.Text(rest)
}

// endpointsError is a dial of several endpoints that failed: the last
// cause of each, in the order the endpoints are tried.
type endpointsError struct {
	endpoints []endpoint
	causes    []error // by endpoint; nil: not tried
}

func (e *endpointsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "every endpoint failed (%d)", len(e.endpoints))
	for i, ep := range e.endpoints {
		b.WriteString("; ")
		if e.causes[i] == nil {
			fmt.Fprintf(&b, "%s: not tried", ep.desc)
			continue
		}
		b.WriteString(e.causes[i].Error()) // names the endpoint
	}
	return redact.Text(b.String())
}

// Unwrap returns the causes, for errors.Is and errors.As.
func (e *endpointsError) Unwrap() []error {
	var errs []error
	for _, err := range e.causes {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
