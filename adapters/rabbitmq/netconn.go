package rabbitmq

import (
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// boundedDial is amqp.DefaultDial (dialTimeout bounds the TCP dial and the
// TLS and AMQP handshakes) with every write on the connection bounded by
// writeTimeout: a broker or network that stops reading fails the write,
// and amqp091-go then closes the connection and recovery starts, instead
// of a publish (and everything behind it) hanging for as long as the
// broker keeps the socket open.
func boundedDial(dialTimeout, writeTimeout time.Duration) func(network, addr string) (net.Conn, error) {
	dial := amqp.DefaultDial(dialTimeout)
	return func(network, addr string) (net.Conn, error) {
		conn, err := dial(network, addr)
		if err != nil || writeTimeout <= 0 {
			return conn, err
		}
		return &writeBoundedConn{Conn: conn, limit: writeTimeout}, nil
	}
}

// writeBoundedConn sets a write deadline of now+limit before each Write,
// or the caller's own deadline when that is sooner.
type writeBoundedConn struct {
	net.Conn
	limit time.Duration

	mu       sync.Mutex
	deadline time.Time // set by SetDeadline or SetWriteDeadline; zero: none
}

func (c *writeBoundedConn) Write(b []byte) (int, error) {
	d := time.Now().Add(c.limit)
	c.mu.Lock()
	if !c.deadline.IsZero() && c.deadline.Before(d) {
		d = c.deadline
	}
	c.mu.Unlock()
	if err := c.Conn.SetWriteDeadline(d); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *writeBoundedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *writeBoundedConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}
