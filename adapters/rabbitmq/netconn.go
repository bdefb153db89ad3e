package rabbitmq

import (
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// boundedDial is amqp.DefaultDial (dialTimeout bounds the TCP dial and the
// TLS and AMQP handshakes) returning a *socket, whose writes are each
// bounded by writeTimeout (0: unbounded): a broker or network that stops
// reading fails the write, the socket, and with it the connection, and
// recovery starts, instead of a publish (and everything behind it) hanging
// for as long as the broker keeps the socket open. dialed is called with
// each socket it makes.
func boundedDial(dialTimeout, writeTimeout time.Duration, dialed func(*socket)) func(network, addr string) (net.Conn, error) {
	dial := amqp.DefaultDial(dialTimeout)
	return func(network, addr string) (net.Conn, error) {
		conn, err := dial(network, addr)
		if err != nil {
			return conn, err
		}
		s := newSocket(conn, writeTimeout)
		if dialed != nil {
			dialed(s)
		}
		return s, nil
	}
}

// maxBacklog is how many written bytes a socket holds for its flusher
// before a Write waits for room.
const maxBacklog = 1 << 20

// socket is the client's side of one broker connection, beneath TLS when
// there is TLS. A Write only appends to a backlog; a flusher goroutine,
// started when the backlog stops being empty and ending when it is empty
// again, writes it to the network, each write with a deadline (now+limit,
// or the caller's own deadline when that is sooner). Writes made while the
// flusher is in a system call leave together with the next one: amqp091-go
// flushes every frame group (a publish, an ack) with a write of its own, and
// a socket of its own would cost each a system call in the caller's
// goroutine.
//
// Until a publish channel opens on the socket (noDirect), a Write to an
// idle socket (no flusher running) writes in the caller's goroutine: a
// consuming connection's acks leave without a goroutine switch.
//
// The backlog is bounded: a Write waits while maxBacklog bytes are held,
// except during an inline send (beginInline), which never waits. A write the
// flusher could not make fails the socket: the connection is closed, so
// that amqp091-go's reader sees it and the connection is recovered, and
// every later Write returns the error. Bytes amqp091-go was told were
// written are then lost with the connection, as bytes in a kernel buffer
// would be: the publishes they carried are completed as lost
// (ErrConfirmLost), never as confirmed.
type socket struct {
	net.Conn
	limit time.Duration

	dmu      sync.Mutex
	deadline time.Time // set by SetDeadline or SetWriteDeadline; zero: none

	mu       sync.Mutex
	room     *sync.Cond // signalled when the backlog shrinks or the socket fails
	backlog  []byte
	spare    []byte // the flusher's last buffer, reused
	flushing bool   // a flusher runs
	inline   int    // inline sends in progress: Write does not wait
	direct   bool   // an idle socket's Write writes in the caller's goroutine
	// writingDirect: such a write is in progress, holding amqp091-go's
	// connection lock while it waits for the network.
	writingDirect bool
	failed        error // a write that failed, or the socket closed
}

func newSocket(conn net.Conn, limit time.Duration) *socket {
	s := &socket{Conn: conn, limit: limit, direct: true}
	s.room = sync.NewCond(&s.mu)
	return s
}

// Write appends b to the backlog and starts a flusher if none runs. It
// waits while the backlog is full and no inline send is in progress.
func (s *socket) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.failed == nil && len(s.backlog) >= maxBacklog && s.inline == 0 {
		s.room.Wait()
	}
	if s.failed != nil {
		return 0, s.failed
	}
	if !s.flushing && s.direct {
		return s.writeDirectLocked(b)
	}
	s.backlog = append(s.backlog, b...)
	if !s.flushing {
		s.flushing = true
		go s.flush()
	}
	return len(b), nil
}

// writeDirectLocked writes b in the caller's goroutine, as the flusher
// would: on a socket no publish sends inline on, an idle socket's write
// goes out without waiting for a goroutine to be scheduled (a consumer's
// ack at prefetch 1 is a round trip per message). Writes made meanwhile
// wait in the backlog for a flusher started after it. Called holding mu,
// with no flusher running; returns holding it.
func (s *socket) writeDirectLocked(b []byte) (int, error) {
	s.flushing, s.writingDirect = true, true
	s.mu.Unlock()
	err := s.write(b)
	s.mu.Lock()
	s.writingDirect = false
	if err != nil {
		s.failLocked(err)
		s.flushing = false
		s.room.Broadcast()
		return 0, err
	}
	if len(s.backlog) > 0 {
		go s.flush() // flushing stays set: it is the flusher's now
	} else {
		s.flushing = false
	}
	return len(b), nil
}

// failLocked fails the socket with err, once, and closes the connection.
func (s *socket) failLocked(err error) {
	if s.failed != nil {
		return
	}
	s.failed = err
	// amqp091-go may have been told bytes were written: only a closed
	// socket tells its reader that the connection is gone.
	_ = s.Conn.Close()
}

// noDirect makes every later Write go through the backlog: a publish is
// about to send inline on the socket (beginInline), and a Write in some
// other goroutine must never hold the connection's lock while it waits
// for the network.
func (s *socket) noDirect() {
	s.mu.Lock()
	s.direct = false
	s.mu.Unlock()
}

// flush writes the backlog until it is empty or a write fails.
func (s *socket) flush() {
	s.mu.Lock()
	for len(s.backlog) > 0 && s.failed == nil {
		out := s.backlog
		s.backlog, s.spare = s.spare[:0], nil
		s.mu.Unlock()
		err := s.write(out)
		s.mu.Lock()
		if cap(out) <= maxBacklog { // a larger one (a large message) is not kept
			s.spare = out[:0]
		}
		if err != nil {
			s.failLocked(err)
		}
		s.room.Broadcast()
	}
	s.flushing = false
	s.room.Broadcast()
	s.mu.Unlock()
}

// write writes b to the network, bounded by limit or the caller's own
// write deadline, whichever is sooner.
func (s *socket) write(b []byte) error {
	if s.limit > 0 {
		d := time.Now().Add(s.limit)
		s.dmu.Lock()
		if !s.deadline.IsZero() && s.deadline.Before(d) {
			d = s.deadline
		}
		s.dmu.Unlock()
		if err := s.Conn.SetWriteDeadline(d); err != nil {
			return err
		}
	}
	_, err := s.Conn.Write(b)
	return err
}

// beginInline reports whether a send may run in its caller's goroutine:
// the socket has not failed, makes no direct writes (noDirect was called,
// and the last such write is over), and no Write waits for room (none can
// while the backlog is below maxBacklog). Until the matching endInline no Write
// waits, so the send cannot block on the network however the broker
// behaves; the backlog may then pass maxBacklog by what it writes.
func (s *socket) beginInline() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil || len(s.backlog) >= maxBacklog || s.direct || s.writingDirect {
		return false
	}
	s.inline++
	return true
}

// endInline ends an inline send begun with beginInline.
func (s *socket) endInline() {
	s.mu.Lock()
	s.inline--
	s.mu.Unlock()
}

// Close closes the network connection at once: what is still in the
// backlog is dropped (amqp091-go closes the socket after the broker's
// connection.close-ok, which the broker sends only once it has read
// everything before it, or after the connection failed).
func (s *socket) Close() error {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = net.ErrClosed
	}
	s.room.Broadcast()
	s.mu.Unlock()
	return s.Conn.Close()
}

func (s *socket) SetDeadline(t time.Time) error {
	s.dmu.Lock()
	s.deadline = t
	s.dmu.Unlock()
	return s.Conn.SetDeadline(t)
}

func (s *socket) SetWriteDeadline(t time.Time) error {
	s.dmu.Lock()
	s.deadline = t
	s.dmu.Unlock()
	return s.Conn.SetWriteDeadline(t)
}
