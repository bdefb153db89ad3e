package warren

import (
	"context"
	"fmt"
	"runtime"
)

// Router dispatches messages to handlers by routing key. Routes are mounted
// on AMQP topic patterns; when several match, the most specific wins (see
// Pattern.Compare). The pattern a route is mounted on is also the binding
// the transport declares for it, so what the broker delivers and what the
// router dispatches agree.
//
// Register every route and middleware before serving: registration is not
// safe to run concurrently with ServeMessage. Serving is safe from many
// goroutines.
type Router struct {
	mux         *mux
	parent      *Router
	prefix      string
	middlewares []Middleware
	mounted     bool
}

// mux is the state every router derived from one NewRouter shares.
type mux struct {
	root     *Router
	tree     tree
	patterns []string
	sites    map[string]string       // pattern -> where it was registered
	notFound Handler                 // the user's (or the default) NotFound handler
	fallback Handler                 // notFound wrapped in the root's middlewares
	typed    map[string]typedHandler // pattern -> its Typed handler, for Describe
}

// NewRouter returns an empty router whose NotFound handler dead-letters
// every message with reason "no-route".
func NewRouter() *Router {
	m := &mux{sites: make(map[string]string), notFound: HandlerFunc(noRoute)}
	r := &Router{mux: m}
	m.root = r
	m.fallback = m.notFound
	return r
}

func noRoute(_ context.Context, msg *Message) error {
	return fmt.Errorf("%w %q", ErrNoRoute, msg.RoutingKey)
}

// Use appends middlewares to the router's stack. They wrap every route
// mounted afterwards on this router and the routers derived from it; on the
// root they also wrap NotFound. Use after a route has been mounted on this
// router (or one derived from it) panics: chains are built once, at
// registration.
func (r *Router) Use(mws ...Middleware) {
	if r.mounted {
		panic("warren: Use must be called before any route is mounted on this router")
	}
	r.middlewares = append(r.middlewares, mws...)
	if r == r.mux.root {
		r.mux.buildFallback()
	}
}

// With returns an inline router that adds mws to this router's stack for
// the routes mounted through it: r.With(auth).Handle("admin.#", h).
func (r *Router) With(mws ...Middleware) *Router {
	stack := make([]Middleware, 0, len(r.middlewares)+len(mws))
	stack = append(append(stack, r.middlewares...), mws...)
	return &Router{mux: r.mux, parent: r, prefix: r.prefix, middlewares: stack}
}

// Group calls fn with an inline router that starts with this router's
// middleware stack; middlewares fn adds with Use apply to its routes only.
func (r *Router) Group(fn func(r *Router)) *Router {
	g := r.With()
	if fn != nil {
		fn(g)
	}
	return g
}

// Route mounts a sub-router under a prefix of words: in
// r.Route("Order", fn), fn's Handle("Created", h) mounts "Order.Created".
// The prefix may hold wildcards ("*.Order").
func (r *Router) Route(prefix string, fn func(r *Router)) *Router {
	full := joinPattern(r.prefix, prefix)
	if _, err := ParsePattern(full); err != nil {
		panic("warren: Route: " + err.(*PatternError).describe())
	}
	sub := r.With()
	sub.prefix = full
	if fn != nil {
		fn(sub)
	}
	return sub
}

// Handle mounts h on pattern (relative to the router's prefix). It panics
// if the pattern is malformed (the message names the pattern and the
// reason) or already mounted (the message names both registration sites).
func (r *Router) Handle(pattern string, h Handler) {
	if h == nil {
		panic("warren: Handle " + pattern + ": nil handler")
	}
	full := joinPattern(r.prefix, pattern)
	p, err := ParsePattern(full)
	if err != nil {
		panic("warren: Handle: " + err.(*PatternError).describe())
	}
	site := callerSite()
	rt := &route{pattern: p, handler: Chain(r.middlewares...)(h)}
	if existing := r.mux.tree.insert(rt); existing != nil {
		panic(fmt.Sprintf("warren: pattern %q mounted twice: at %s and at %s",
			full, r.mux.sites[full], site))
	}
	r.mux.sites[full] = site
	r.mux.recordTypes(full, h)
	r.mux.patterns = append(r.mux.patterns, full)
	for x := r; x != nil; x = x.parent {
		x.mounted = true
	}
}

// HandleFunc mounts fn on pattern; see Handle.
func (r *Router) HandleFunc(pattern string, fn func(ctx context.Context, msg *Message) error) {
	r.Handle(pattern, HandlerFunc(fn))
}

// NotFound sets the handler for messages whose routing key matches no
// route. It is shared by every router derived from the same NewRouter and
// wrapped in the root router's middlewares. The default dead-letters with
// reason "no-route"; a NotFound handler must not return Requeue, which would
// loop an unroutable message.
func (r *Router) NotFound(h Handler) {
	if h == nil {
		h = HandlerFunc(noRoute)
	}
	r.mux.notFound = h
	r.mux.buildFallback()
}

func (m *mux) buildFallback() {
	m.fallback = Chain(m.root.middlewares...)(m.notFound)
}

// Routes returns the patterns of the mounted routes, in registration
// order: the bindings a transport declares for this router. A route is
// named by its pattern everywhere (Message.Route, the x-warren-route
// header, the route label of logs and metrics).
func (r *Router) Routes() []string {
	return append([]string(nil), r.mux.patterns...)
}

// Match returns the pattern of the route that would handle routingKey, and
// false if none would.
func (r *Router) Match(routingKey string) (string, bool) {
	if rt := r.mux.tree.match(routingKey); rt != nil {
		return rt.pattern.raw, true
	}
	return "", false
}

// ServeMessage dispatches msg to the most specific route matching its
// routing key, through that route's middleware chain, and returns the
// handler's result (see OutcomeOf). It sets msg.Route. A key matching no
// route goes to NotFound. With no middleware the dispatch does not allocate.
func (r *Router) ServeMessage(ctx context.Context, msg *Message) error {
	rt := r.mux.tree.match(msg.RoutingKey)
	if rt == nil {
		msg.Route = ""
		return r.mux.fallback.ServeMessage(ctx, msg)
	}
	msg.Route = rt.pattern.raw
	return rt.handler.ServeMessage(ctx, msg)
}

func joinPattern(prefix, pattern string) string {
	switch {
	case prefix == "":
		return pattern
	case pattern == "":
		return prefix
	default:
		return prefix + "." + pattern
	}
}

// callerSite names the first caller outside this file, for panic messages.
func callerSite() string {
	for skip := 2; skip < 8; skip++ {
		_, file, line, ok := runtime.Caller(skip)
		if !ok {
			break
		}
		if !isRouterFile(file) {
			return fmt.Sprintf("%s:%d", file, line)
		}
	}
	return "unknown"
}

var routerFile = func() string {
	_, file, _, _ := runtime.Caller(0)
	return file
}()

func isRouterFile(file string) bool { return file == routerFile }
