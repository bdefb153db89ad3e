package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// ErrClosed is returned by operations on a closed client.
var ErrClosed = errors.New("warren/rabbitmq: client closed")

// connection is one AMQP connection that recovers: when the broker or the
// network closes it, a goroutine redials with backoff until it succeeds, the
// retry budget runs out, or the connection is closed. Users ask it for
// channels and wait for it to be up.
type connection struct {
	name      string
	endpoints []endpoint // the nodes, in the order they are tried
	cfg       *config

	// at is the index in endpoints of the node the connection is on, or
	// was last on; the next dial starts there (the first) or after it
	// (after a loss). Only the goroutine that dials touches it.
	at int

	// Under mu: the node the connection is (or was last) on.
	on   int
	addr string

	mu      sync.Mutex
	conn    *amqp.Connection
	up      chan struct{} // closed while conn is usable
	blocked bool
	unblock chan struct{} // closed when the broker lifts a connection.blocked
	gen     uint64
	sock    *socket // conn's
	err     error   // the terminal error: ErrClosed after close, a give-up (ErrGaveUp)
	closed  bool    // close was called

	done   chan struct{} // closed when the connection is done for good: closed or given up
	onDone func(error)   // called once, with err, when done closes (the client's terminal state)
	wg     sync.WaitGroup

	sockets sync.Map // *amqp.Connection dialed, not yet installed -> its *socket
}

// dialConnection makes the first connection: with WithDialRetry (the
// default) it dials with the recovery backoff until it connects, the policy
// gives up, or ctx ends; without it, once.
// It starts with endpoints[start].
func dialConnection(ctx context.Context, endpoints []endpoint, start int, name string, cfg *config, onDone func(error)) (*connection, error) {
	c := &connection{
		name:      name,
		endpoints: endpoints,
		at:        start,
		cfg:       cfg,
		up:        make(chan struct{}),
		unblock:   make(chan struct{}),
		done:      make(chan struct{}),
		onDone:    onDone,
	}
	close(c.unblock)
	var conn *amqp.Connection
	var err error
	if cfg.dialRetry {
		var attempts int
		conn, attempts, err = c.dialRetrying(ctx)
		if err != nil {
			if len(endpoints) > 1 {
				return nil, fmt.Errorf("warren/rabbitmq: no connection after %s: %w", countAttempts(attempts), err)
			}
			return nil, fmt.Errorf("warren/rabbitmq: no connection after %s, the last: %w", countAttempts(attempts), err)
		}
	} else if conn, err = c.dialOnce(ctx); err != nil {
		return nil, err
	}
	c.install(conn, 0)
	c.wg.Add(1)
	go c.supervise(conn)
	return c, nil
}

// dialOnce tries each endpoint once, from c.at, and stops at the first
// that connects (WithDialRetry(false)).
func (c *connection) dialOnce(ctx context.Context) (*amqp.Connection, error) {
	causes := make([]error, len(c.endpoints))
	for n := 0; n < len(c.endpoints); n++ {
		i := (c.at + n) % len(c.endpoints)
		conn, err := c.dial(ctx, c.endpoints[i])
		if err == nil {
			c.at = i
			return conn, nil
		}
		causes[i] = err
		if ctx.Err() != nil {
			break
		}
		c.cfg.observer.ObserveConnection(warren.ConnectionEvent{Name: c.name, Endpoint: c.endpoints[i].addr, State: warren.ConnDown, Attempt: n + 1, Err: err})
	}
	return nil, c.dialError(causes)
}

// dialError is the error of a dial that failed on every endpoint: the
// cause itself with one endpoint, each endpoint's last cause with several.
func (c *connection) dialError(causes []error) error {
	if len(c.endpoints) == 1 {
		return causes[0]
	}
	return &endpointsError{endpoints: c.endpoints, causes: causes}
}

// connectionName is the connection_name client property the broker shows
// for a connection to ep: the connection's name and the node's address.
func (c *connection) connectionName(ep endpoint) string { return c.name + "@" + ep.addr }

func (c *connection) dial(ctx context.Context, ep endpoint) (*amqp.Connection, error) {
	type result struct {
		conn *amqp.Connection
		err  error
	}
	var sock *socket // the last the dial made: written before DialConfig returns
	amqpCfg := amqp.Config{
		Heartbeat: c.cfg.heartbeat,
		FrameSize: c.cfg.frameMax,
		// A copy per dial: amqp091-go writes the endpoint's host into an
		// empty ServerName, and the next endpoint would be verified against
		// the first one's name.
		TLSClientConfig: c.cfg.tls.Clone(),
		Locale:          "en_US",
		Properties: amqp.Table{
			"connection_name": c.connectionName(ep),
			"product":         "warren",
		},
		Dial: boundedDial(c.cfg.dialTimeout, c.cfg.writeTimeout, func(s *socket) { sock = s }),
	}
	res := make(chan result, 1)
	go func() {
		conn, err := amqp.DialConfig(ep.url, amqpCfg)
		if err == nil && sock != nil {
			c.sockets.Store(conn, sock)
		}
		res <- result{conn, err}
	}()
	select {
	case r := <-res:
		if r.err != nil {
			return nil, fmt.Errorf("warren/rabbitmq: dial %s (%s): %w", ep.desc, c.name, r.err)
		}
		return r.conn, nil
	case <-ctx.Done():
		go func() { // the dial goroutine ends within dialTimeout; close what it opens
			if r := <-res; r.conn != nil {
				c.sockets.Delete(r.conn)
				_ = r.conn.Close()
			}
		}()
		return nil, fmt.Errorf("warren/rabbitmq: dial %s (%s): %w", ep.desc, c.name, ctx.Err())
	}
}

// install makes conn the current connection and wakes everyone waiting.
// attempts is how many dials the recovery took (0 for the first connection).
func (c *connection) install(conn *amqp.Connection, attempts int) {
	blockings := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
	sock, _ := c.sockets.LoadAndDelete(conn)
	c.mu.Lock()
	c.conn = conn
	c.sock, _ = sock.(*socket)
	c.on, c.addr = c.at, c.endpoints[c.at].addr
	c.gen++
	close(c.up)
	c.mu.Unlock()
	c.wg.Add(1)
	go c.watchBlocked(blockings)
	c.cfg.observer.ObserveConnection(warren.ConnectionEvent{Name: c.name, Endpoint: c.endpoints[c.at].addr, State: warren.ConnUp, Attempt: attempts})
}

// watchBlocked tracks connection.blocked / unblocked from the broker.
func (c *connection) watchBlocked(blockings <-chan amqp.Blocking) {
	defer c.wg.Done()
	for b := range blockings {
		c.mu.Lock()
		if b.Active && !c.blocked {
			c.blocked = true
			c.unblock = make(chan struct{})
		} else if !b.Active && c.blocked {
			c.blocked = false
			close(c.unblock)
		}
		c.mu.Unlock()
		if c.cfg.onBlocked != nil {
			c.cfg.onBlocked(c.name, b.Active, b.Reason)
		}
	}
	// The connection is gone: nobody will unblock it, recovery starts afresh.
	c.mu.Lock()
	if c.blocked {
		c.blocked = false
		close(c.unblock)
	}
	c.mu.Unlock()
}

// supervise waits for the connection to close and recovers it.
func (c *connection) supervise(conn *amqp.Connection) {
	defer c.wg.Done()
	for {
		closeErr, ok := <-conn.NotifyClose(make(chan *amqp.Error, 1))
		var cause error
		if ok && closeErr != nil {
			cause = closeErr
		}
		c.mu.Lock()
		if c.err != nil { // closed or aborted: nothing to recover
			c.mu.Unlock()
			return
		}
		c.up = make(chan struct{})
		c.mu.Unlock()
		if cause == nil {
			cause = errors.New("connection closed")
		}
		lost := c.endpoints[c.at]
		c.cfg.observer.ObserveConnection(warren.ConnectionEvent{Name: c.name, Endpoint: lost.addr, State: warren.ConnDown, Err: cause})
		c.at = (c.at + 1) % len(c.endpoints) // the next node first

		next, attempts, err := c.redial()
		if err != nil {
			if !errors.Is(err, ErrGaveUp) {
				return // closed meanwhile: close reports it
			}
			c.giveUp(err, lost.addr, attempts)
			return
		}
		c.install(next, attempts)
		conn = next
	}
}

// redial dials with backoff until it succeeds, the policy gives up (a
// *gaveUpError), or the connection is closed (ErrClosed).
func (c *connection) redial() (*amqp.Connection, int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	conn, attempts, err := c.dialRetrying(ctx)
	switch {
	case err == nil:
		return conn, attempts, nil
	case ctx.Err() != nil:
		return nil, attempts, ErrClosed
	default:
		return nil, attempts, &gaveUpError{conn: c.name, attempts: attempts, last: err}
	}
}

// dialRetrying dials until a dial succeeds, the backoff policy stops (after
// maxRetries attempts), every endpoint failed in a way no retry can fix (a
// refused login), or ctx ends. It tries the endpoints in turn from c.at:
// every dial of any endpoint is one attempt, the first round is immediate,
// and the policy's wait comes after each round (with one endpoint, after
// each attempt). Each failed attempt is an Observer event. It returns the
// number of attempts and, on failure, the last cause of each endpoint.
func (c *connection) dialRetrying(ctx context.Context) (*amqp.Connection, int, error) {
	bo := c.cfg.newBackoff()
	n := len(c.endpoints)
	causes := make([]error, n)
	refused := make([]bool, n)
	var nRefused, inRound int
	i := c.at
	for attempt := 1; ; attempt++ {
		ep := c.endpoints[i]
		conn, err := c.dial(ctx, ep)
		if err == nil {
			c.at = i
			return conn, attempt, nil
		}
		if ctx.Err() != nil {
			// The dial ended with ctx: the endpoint's earlier cause, if it
			// has one, says more than the deadline.
			if causes[i] == nil {
				causes[i] = err
			}
			return nil, attempt, c.dialError(causes)
		}
		causes[i] = err
		c.cfg.observer.ObserveConnection(warren.ConnectionEvent{Name: c.name, Endpoint: ep.addr, State: warren.ConnDown, Attempt: attempt, Err: err})
		if permanentDialError(err) && !refused[i] {
			refused[i] = true
			nRefused++
		}
		if nRefused == n || c.cfg.maxRetries > 0 && uint64(attempt) >= c.cfg.maxRetries {
			return nil, attempt, c.dialError(causes)
		}
		for i = (i + 1) % n; refused[i]; i = (i + 1) % n {
		}
		if inRound++; inRound < n-nRefused {
			continue // the rest of the round at once
		}
		inRound = 0
		wait := bo.NextBackOff()
		if wait == backoff.Stop {
			return nil, attempt, c.dialError(causes)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, attempt, c.dialError(causes)
		}
	}
}

// countAttempts says "1 attempt" or "n attempts".
func countAttempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// permanentDialError reports a dial failure another attempt cannot fix:
// the broker refused the credentials or the virtual host.
func permanentDialError(err error) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && (ae.Code == amqp.AccessRefused || ae.Code == amqp.NotAllowed)
}

// current waits until the connection is up and returns it with its
// generation.
func (c *connection) current(ctx context.Context) (*amqp.Connection, uint64, error) {
	for {
		c.mu.Lock()
		conn, up, gen, err := c.conn, c.up, c.gen, c.err
		c.mu.Unlock()
		if err != nil {
			return nil, 0, err
		}
		select {
		case <-up:
			if !conn.IsClosed() {
				return conn, gen, nil
			}
			// Closed but supervise has not noticed yet: wait for it.
			select {
			case <-ctx.Done():
				return nil, 0, ctx.Err()
			case <-c.done:
			case <-time.After(10 * time.Millisecond):
			}
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("warren/rabbitmq: waiting for connection %s: %w", c.name, ctx.Err())
		case <-c.done: // the loop returns the terminal error
		}
	}
}

// channel opens a channel on the current connection, waiting for recovery
// up to ctx.
func (c *connection) channel(ctx context.Context) (*amqp.Channel, uint64, error) {
	for {
		conn, gen, err := c.current(ctx)
		if err != nil {
			return nil, 0, err
		}
		ch, err := conn.Channel()
		if err == nil {
			return ch, gen, nil
		}
		if !errors.Is(err, amqp.ErrClosed) && !conn.IsClosed() && !connectionLost(err) {
			return nil, 0, fmt.Errorf("warren/rabbitmq: open channel on %s: %w", c.name, err)
		}
		// The connection died between current and Channel: wait again.
	}
}

// connectionLost recognises the error amqp091-go fails a call with when
// the socket breaks under it (FRAME_ERROR "EOF", a write error).
func connectionLost(err error) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && ae.Code == amqp.FrameError
}

// socketOf returns the socket of the connection that generation gen
// installed, or nil once another has replaced it.
func (c *connection) socketOf(gen uint64) *socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil
	}
	return c.sock
}

// frameSize returns the frame_max negotiated on the current connection,
// or RabbitMQ's default when there is none yet.
func (c *connection) frameSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil || c.conn.Config.FrameSize <= 0 {
		return defaultFrameMax
	}
	return c.conn.Config.FrameSize
}

// defaultFrameMax is RabbitMQ's default frame_max.
const defaultFrameMax = 131072

// waitUnblocked waits until the broker is not blocking publishers on this
// connection.
func (c *connection) waitUnblocked(ctx context.Context) error {
	c.mu.Lock()
	blocked, unblock := c.blocked, c.unblock
	c.mu.Unlock()
	if !blocked {
		return nil
	}
	select {
	case <-unblock:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBlocked, ctx.Err())
	case <-c.done:
		return c.terminalErr()
	}
}

// endpointAddr returns the address of the node the connection is on, or
// was last on ("" before the first connection).
func (c *connection) endpointAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// endpointIndex returns the index in endpoints of the node the connection
// is on, or was last on.
func (c *connection) endpointIndex() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

// isUp reports whether the connection is open now.
func (c *connection) isUp() bool {
	c.mu.Lock()
	conn, up, err := c.conn, c.up, c.err
	c.mu.Unlock()
	return err == nil && isClosed(up) && conn != nil && !conn.IsClosed()
}

// terminalErr returns the error the connection ended with, nil while it
// has not.
func (c *connection) terminalErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// finish makes the connection done with err (once): waiters wake and get
// err, recovery stops, the client hears of it. It does not wait for
// anything. It returns the amqp connection to close and whether this call
// was the one that ended it.
func (c *connection) finish(err error) (*amqp.Connection, bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, false
	}
	c.err = err
	conn := c.conn
	close(c.done)
	c.mu.Unlock()
	if c.onDone != nil {
		c.onDone(err)
	}
	return conn, true
}

// giveUp ends the connection with its own give-up, err, after attempts
// dials since it lost addr, and reports it: one ConnClosed per connection,
// so nothing when the sibling's give-up ended it first (abort reported
// that one). Both connections can give up at the same moment.
func (c *connection) giveUp(err error, addr string, attempts int) {
	if _, first := c.finish(err); first {
		c.cfg.observer.ObserveConnection(warren.ConnectionEvent{Name: c.name, Endpoint: addr, State: warren.ConnClosed, Attempt: attempts, Err: err})
	}
}

// abort ends the connection with err, the give-up of its sibling: it
// closes the amqp connection (bounded) so that its channels, and everyone
// waiting on them, fail now. close still waits for its goroutines.
func (c *connection) abort(err error) {
	conn, first := c.finish(err)
	if first && conn != nil && !conn.IsClosed() {
		_ = conn.CloseDeadline(time.Now().Add(closeTimeout))
	}
	if first {
		c.cfg.observer.ObserveConnection(warren.ConnectionEvent{Name: c.name, Endpoint: c.endpointAddr(), State: warren.ConnClosed, Err: err})
	}
}

// close closes the connection for good and waits for its goroutines.
func (c *connection) close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	conn, first := c.finish(ErrClosed)
	var err error
	if conn != nil && !conn.IsClosed() {
		// Bounded: a broker that blocks the connection (flow control)
		// stops reading it, and an unbounded close would wait for ever.
		err = conn.CloseDeadline(time.Now().Add(closeTimeout))
	}
	c.wg.Wait()
	if first {
		c.cfg.observer.ObserveConnection(warren.ConnectionEvent{Name: c.name, Endpoint: c.endpointAddr(), State: warren.ConnClosed})
	}
	if errors.Is(err, amqp.ErrClosed) {
		err = nil
	}
	return err
}

// closeTimeout bounds the close handshake of a connection.
const closeTimeout = 5 * time.Second

// ErrBlocked is returned when a publish waited for the broker to lift its
// flow control (connection.blocked, e.g. a memory alarm) until the caller's
// context ended.
var ErrBlocked = errors.New("warren/rabbitmq: connection blocked by the broker")
