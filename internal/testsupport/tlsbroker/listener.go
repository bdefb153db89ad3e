package tlsbroker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ctlTimeout bounds one rabbitmqctl call (it starts an Erlang VM each time).
const ctlTimeout = 60 * time.Second

// listenHost is the only interface the listener binds.
const listenHost = "127.0.0.1"

// errRefused says the broker answered and did not start the listener.
var errRefused = errors.New("broker refused the listener")

// errAddrInUse says the port was taken between choosing it and binding it
// (it wraps errRefused).
var errAddrInUse = fmt.Errorf("%w: address in use", errRefused)

// startListener starts an AMQP 0-9-1 TLS listener on listenHost:port on
// the broker rabbitmqctl reaches (its default node, or RABBITMQ_NODENAME),
// with files for its certificate. The broker does not ask for client
// certificates. An error that wraps errRefused means no listener was
// started (errAddrInUse: the port is taken); any other error leaves it
// unknown (rabbitmqctl failed or timed out).
func startListener(ctx context.Context, port int, f *certFiles) error {
	opts := fmt.Sprintf(`[{cacertfile, %s}, {certfile, %s}, {keyfile, %s}, `+
		`{verify, verify_none}, {fail_if_no_peer_cert, false}]`,
		erlString(f.caFile), erlString(f.certFile), erlString(f.keyFile))
	// ensure_ssl starts the ssl applications (no TLS listener is
	// configured, so they may not be running); fix_ssl_options applies
	// the broker's own defaults to the options, as at boot.
	expr := fmt.Sprintf(`_ = rabbit_networking:ensure_ssl(), `+
		`rabbit_networking:start_ssl_listener({%s, %d}, rabbit_networking:fix_ssl_options(%s), 1, 1).`,
		erlString(listenHost), port, opts)
	out, err := eval(ctx, expr)
	if err != nil {
		return err
	}
	if out == "ok" {
		return nil
	}
	if strings.Contains(out, "eaddrinuse") {
		return fmt.Errorf("port %d: %w", port, errAddrInUse)
	}
	return fmt.Errorf("%w: start_ssl_listener on port %d: %s", errRefused, port, out)
}

// stopListener stops the listener on listenHost:port. It reports whether
// there was one to stop.
func stopListener(ctx context.Context, port int) (stopped bool, err error) {
	expr := fmt.Sprintf(`try rabbit_networking:stop_tcp_listener({%s, %d}) `+
		`catch error:{badmatch, {error, not_found}} -> not_running end.`,
		erlString(listenHost), port)
	out, err := eval(ctx, expr)
	switch {
	case err != nil:
		return false, err
	case out == "ok":
		return true, nil
	case out == "not_running":
		return false, nil
	}
	return false, fmt.Errorf("stop_tcp_listener on port %d: %s", port, out)
}

// listenerListed reports whether the broker lists a listener on port
// (rabbit_networking:active_listeners, what rabbitmq-diagnostics
// listeners shows).
func listenerListed(ctx context.Context, port int) (bool, error) {
	expr := fmt.Sprintf(`lists:any(fun(L) -> element(6, L) =:= %d end, rabbit_networking:active_listeners()).`, port)
	out, err := eval(ctx, expr)
	if err != nil {
		return false, err
	}
	switch out {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("active_listeners: %s", out)
}

// eval runs an Erlang expression on the broker with rabbitmqctl eval and
// returns what it printed, trimmed.
func eval(ctx context.Context, expr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ctlTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", "eval", expr).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("rabbitmqctl eval %q: %w\n%s", expr, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// erlString quotes s as an Erlang string literal.
func erlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(listenHost, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// addr returns listenHost:port.
func addr(port int) string { return net.JoinHostPort(listenHost, strconv.Itoa(port)) }
