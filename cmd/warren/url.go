package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/redact"
)

const defaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// brokerURL picks the broker URL: the flag, else $AMQP_URL, else the local
// default.
func brokerURL(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if u := getenv("AMQP_URL"); u != "" {
		return u
	}
	return defaultURL
}

// errBadURL says what is wrong with a URL without repeating it: the parser's
// own message quotes the URL, password included.
var errBadURL = errors.New("invalid broker URL: want amqp://user:password@host:port/vhost " +
	"(or amqps://), with reserved characters in the password percent-encoded")

// dial connects to url. Its errors never contain the password.
func dial(url, name string) (*amqp.Connection, amqp.URI, error) {
	u, err := amqp.ParseURI(url)
	if err != nil {
		return nil, u, errBadURL
	}
	conn, err := amqp.DialConfig(url, amqp.Config{
		Properties: amqp.Table{"connection_name": name},
		Dial:       amqp.DefaultDial(10 * time.Second),
	})
	if err != nil {
		return nil, u, fmt.Errorf("cannot connect to %s: %s", redact.Text(url), scrub(err.Error(), u.Password))
	}
	return conn, u, nil
}

// scrub hides password in s, in case an error quotes it outside a URL.
func scrub(s, password string) string {
	if password == "" {
		return s
	}
	return strings.ReplaceAll(s, password, "xxxxx")
}
