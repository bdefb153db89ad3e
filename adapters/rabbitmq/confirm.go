package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/confirm"
)

// ErrNacked is returned when the broker refused a publish (basic.nack):
// it did not take responsibility for the message.
var ErrNacked = errors.New("warren/rabbitmq: publish nacked by the broker")

// ErrConfirmLost is returned when the channel or its connection closed
// after a message was sent, or while it was being sent (a write that
// failed, a node that stopped), before the broker confirmed it: the
// message may or may not have been enqueued. Send with WithSendRetry
// publishes it again.
var ErrConfirmLost = errors.New("warren/rabbitmq: channel closed before the broker confirmed the publish")

// ErrPublishTimeout is returned when a publish's context (or
// WithPublishTimeout) ended after its message was handed to the
// connection but before the broker confirmed it: the broker may still have
// the message, and may confirm it late. The caller decides whether to
// publish it again (with the same message id, so that a consumer that
// deduplicates sees one message). It wraps the context's error.
var ErrPublishTimeout = errors.New("warren/rabbitmq: publish not confirmed in time: the broker may still have the message")

// Confirmation is the pending broker confirm of one publish.
type Confirmation struct{ p *confirm.Pending }

// Done is closed when the broker confirmed or refused the publish, or the
// channel was lost.
func (c *Confirmation) Done() <-chan struct{} { return c.p.Done() }

// Wait waits for the confirm and returns nil only if the broker took the
// message: ErrUnroutable if a mandatory publish was returned, ErrNacked if
// the broker refused it, ErrConfirmLost if the channel died first, or the
// context's error.
func (c *Confirmation) Wait(ctx context.Context) error {
	select {
	case <-c.p.Done():
		return c.result()
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrPublishTimeout, ctx.Err())
	}
}

func (c *Confirmation) result() error {
	acked, returned, err := c.p.Result()
	switch {
	case err != nil:
		return err
	case returned:
		return warren.ErrUnroutable
	case !acked:
		return ErrNacked
	default:
		return nil
	}
}

// confirmChannel is one channel in confirm mode, reopened when lost.
// Publishes on it are serialised (sem) so that each knows its sequence
// number. Every channel it opens has its own confirm.Tracker, read by one
// goroutine: returns (matched to their publish by its stamped sequence
// number) and confirms come in the order the broker sent them, so a
// basic.return marks its publish before the confirm completes it, and a
// new channel's confirms never complete an old channel's publishes.
//
// No publish waits on another beyond its own context: a publish waits for
// recovery before it takes sem, and takes sem up to its context. Holding
// it, the publish sends in its own goroutine when the connection's socket
// guarantees that no write can wait (socket.beginInline); otherwise it
// hands the send to the channel's sender goroutine, which holds sem until
// the library returns (bounded by WithWriteTimeout), while the caller
// returns when its context ends. The sender lives as long as the
// connection: a goroutine started for each send cost more than the send
// (its stack grew to amqp091-go's depth every time).
type confirmChannel struct {
	conn *connection

	sem     chan struct{} // one slot: serialises publishes and (re)opening
	ch      *amqp.Channel
	tracker *confirm.Tracker // of ch
	sock    *socket          // of ch's connection; nil once that was replaced
	sends   chan sendRequest // to the sender; nil until the first publish
	wg      *sync.WaitGroup  // listeners and the sender
}

// sendRequest is one publish handed to the sender, holding sem.
type sendRequest struct {
	ctx     context.Context
	ch      *amqp.Channel
	tracker *confirm.Tracker
	p       *warren.Publishing
	res     chan<- sent // buffered: the caller may have gone
}

func newConfirmChannel(conn *connection, wg *sync.WaitGroup) *confirmChannel {
	return &confirmChannel{conn: conn, wg: wg, sem: make(chan struct{}, 1)}
}

// open makes sure the channel is open, waiting for recovery up to ctx.
// Called holding sem.
func (cc *confirmChannel) open(ctx context.Context) error {
	if cc.isOpen() {
		return nil
	}
	ch, gen, err := cc.conn.channel(ctx)
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return fmt.Errorf("warren/rabbitmq: enable publisher confirms: %w", err)
	}
	cc.ch, cc.tracker, cc.sock = ch, confirm.Watch(ch, cc.wg, ErrConfirmLost), cc.conn.socketOf(gen)
	if cc.sock != nil {
		cc.sock.noDirect()
	}
	return nil
}

// isOpen reports whether the channel is open. Called holding sem.
func (cc *confirmChannel) isOpen() bool { return cc.ch != nil && !cc.ch.IsClosed() }

// acquire takes sem, up to ctx or the connection's end.
func (cc *confirmChannel) acquire(ctx context.Context) error {
	select {
	case cc.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("warren/rabbitmq: waiting for the publish channel (nothing was sent): %w", ctx.Err())
	case <-cc.conn.done:
		return cc.conn.terminalErr()
	}
}

func (cc *confirmChannel) release() { <-cc.sem }

// sent is the outcome of one send.
type sent struct {
	pending *confirm.Pending
	err     error
}

// publish sends one message and returns its pending confirmation. If the
// channel is closed before the message is sent, it reopens it (waiting for
// recovery up to ctx) and tries again.
func (cc *confirmChannel) publish(ctx context.Context, p *warren.Publishing) (*Confirmation, error) {
	for {
		// Wait for recovery holding nothing: others keep their deadlines.
		if _, _, err := cc.conn.current(ctx); err != nil {
			return nil, err
		}
		r, err := cc.send(ctx, p)
		if err != nil {
			return nil, err
		}
		switch err := r.err; {
		case err == nil:
			return &Confirmation{p: r.pending}, nil
		case errors.Is(err, confirm.ErrFailed): // the channel closed under us: reopen
			continue
		case errors.Is(err, amqp.ErrClosed) && ctx.Err() == nil:
			continue // closed under us before the message left: reopen and retry
		case errors.Is(err, amqp.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			// Nothing left: the channel was closed, or ctx ended, first.
			return nil, fmt.Errorf("warren/rabbitmq: publish to %q with key %q: %w", p.Exchange, p.RoutingKey, err)
		case sendBroke(err):
			// The connection broke during the send (a write failed or timed
			// out, the broker closed it: a node stopping): some or all of
			// the message's frames may have reached the broker.
			return nil, fmt.Errorf("warren/rabbitmq: publish to %q with key %q: %w: %w", p.Exchange, p.RoutingKey, ErrConfirmLost, err)
		default: // the library refused the message (a header it cannot encode)
			return nil, fmt.Errorf("warren/rabbitmq: publish to %q with key %q: %w", p.Exchange, p.RoutingKey, err)
		}
	}
}

// send takes sem and sends p, in the caller's goroutine when nothing can
// make the send wait: its socket takes writes without waiting
// (socket.beginInline), so the library's send returns at once whatever
// the broker does. Otherwise (the socket's backlog is full: the broker
// reads slowly or not at all) the send goes to the channel's sender
// goroutine, and the caller waits for it or for ctx, whichever ends first.
// An error means nothing more is known of the send.
func (cc *confirmChannel) send(ctx context.Context, p *warren.Publishing) (sent, error) {
	if err := cc.acquire(ctx); err != nil {
		return sent{}, err
	}
	if err := cc.open(ctx); err != nil {
		cc.release()
		return sent{}, err
	}
	req := sendRequest{ctx: ctx, ch: cc.ch, tracker: cc.tracker, p: p}
	if sock := cc.sock; sock != nil && sock.beginInline() {
		defer sock.endInline()
		return cc.sendHolding(req), nil
	}
	res := make(chan sent, 1)
	req.res = res
	if cc.sends == nil {
		cc.sends = make(chan sendRequest)
		cc.wg.Add(1)
		go cc.sender(cc.sends)
	}
	select {
	case cc.sends <- req:
	case <-cc.conn.done: // the sender has ended
		cc.release()
		return sent{}, cc.conn.terminalErr()
	}
	select {
	case r := <-res:
		return r, nil
	case <-ctx.Done():
		// The send is stuck in the library (a socket the broker stopped
		// reading): it may yet go out.
		return sent{}, fmt.Errorf("warren/rabbitmq: publish to %q with key %q: %w: %w", p.Exchange, p.RoutingKey, ErrPublishTimeout, ctx.Err())
	}
}

// sender sends the publishes handed to it, one at a time, until the
// connection is done. Each arrives holding sem, which the send releases.
func (cc *confirmChannel) sender(sends <-chan sendRequest) {
	defer cc.wg.Done()
	for {
		select {
		case r := <-sends:
			r.res <- cc.sendHolding(r)
		case <-cc.conn.done:
			return
		}
	}
}

// sendHolding publishes r's message on r's channel, holding sem, and
// releases sem.
func (cc *confirmChannel) sendHolding(r sendRequest) sent {
	defer cc.release()
	p := r.p
	pending, err := confirm.Publish(r.ctx, r.ch, r.tracker, p.Exchange, p.RoutingKey, p.Mandatory, p.Publishing)
	if errors.Is(err, confirm.ErrFailed) || errors.Is(err, amqp.ErrClosed) {
		if cc.ch == r.ch {
			cc.ch = nil // closed under us: the next publish reopens
		}
	}
	return sent{pending, err}
}

// sendBroke reports whether a send failed because the connection broke
// under it: a socket error (a write that failed or timed out) or the
// connection's close (the broker's CONNECTION_FORCED when a node stops, a
// frame error), rather than a message the library refused to encode.
func sendBroke(err error) bool {
	var ne net.Error
	var ae *amqp.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		return true
	case errors.As(err, &ae):
		return ae.Code != amqp.SyntaxError
	default:
		return false
	}
}
