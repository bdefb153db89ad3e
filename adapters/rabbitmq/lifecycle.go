package rabbitmq

import (
	"errors"
	"fmt"

	"github.com/warren-mq/warren/internal/redact"
)

// ErrGaveUp is the client's terminal error when recovery gave up: a
// connection stayed lost for the whole retry budget of WithReconnect (or
// WithReconnectInterval). errors.Is(err, ErrClosed) holds for it too: the
// client is closed for good and does not recover. The error wraps the last
// dial error, with passwords redacted from its text.
var ErrGaveUp = errors.New("warren/rabbitmq: recovery gave up")

// gaveUpError is a give-up: which connection, after how many dials, and
// the last dial error.
type gaveUpError struct {
	conn     string
	attempts int
	last     error
}

func (e *gaveUpError) Error() string {
	return redact.Text(fmt.Sprintf("%v: connection %s lost, %s to reconnect failed (the client is closed): %v",
		ErrGaveUp, e.conn, countAttempts(e.attempts), e.last))
}

// Is makes errors.Is(err, ErrGaveUp) and errors.Is(err, ErrClosed) hold.
func (e *gaveUpError) Is(target error) bool { return target == ErrGaveUp || target == ErrClosed }

// Unwrap returns the last dial error.
func (e *gaveUpError) Unwrap() error { return e.last }

// Done is closed when the client is done for good: Close was called, or
// recovery gave up (Err says which). After that every publish, request and
// consumer of the client fails with Err, and it does not recover: a
// service would exit (or dial a new client).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns nil until Done is closed, then why: ErrClosed after Close,
// an error matching ErrGaveUp (and ErrClosed) when recovery gave up.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// terminate records the client's terminal error (the first one wins) and
// closes Done. A give-up of one connection ends the other too, so that
// everything waiting on either fails now.
func (c *Client) terminate(from *connection, err error) {
	c.mu.Lock()
	first := c.err == nil
	if first {
		c.err = err
		close(c.done)
	}
	c.mu.Unlock()
	if !errors.Is(err, ErrGaveUp) {
		return
	}
	for _, conn := range []*connection{c.consume, c.publish} {
		if conn != nil && conn != from {
			conn.abort(err)
		}
	}
}
