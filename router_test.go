package warren_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

func named(name string, calls *[]string) warren.Handler {
	return warren.HandlerFunc(func(_ context.Context, m *warren.Message) error {
		*calls = append(*calls, name+":"+m.Route)
		return nil
	})
}

func TestRouterMostSpecificWins(t *testing.T) {
	var calls []string
	r := warren.NewRouter()
	for _, p := range []string{"#", "Order.#", "Order.*", "Order.Created", "*.Created"} {
		r.Handle(p, named(p, &calls))
	}
	for key, want := range map[string]string{
		"Order.Created": "Order.Created",
		"Order.Updated": "Order.*",
		"Order":         "Order.#",
		"User.Created":  "*.Created",
		"audit.x.y":     "#",
	} {
		calls = nil
		rec := warrentest.Serve(r, warrentest.NewMessage(key, nil))
		if !rec.Acked() || len(calls) != 1 || calls[0] != want+":"+want {
			t.Errorf("key %q: calls %v outcome %v, want one call to %q", key, calls, rec.Outcome.Action, want)
		}
	}
}

func TestRouterNotFoundDeadLettersNoRoute(t *testing.T) {
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { return nil })
	rec := warrentest.Serve(r, warrentest.NewMessage("Order.Deleted", nil))
	reason, ok := rec.DeadLettered()
	if !ok || reason != warren.ReasonNoRoute {
		t.Fatalf("outcome = %+v, want dead-letter with reason no-route", rec.Outcome)
	}
	if !errors.Is(rec.Err, warren.ErrNoRoute) || !strings.Contains(rec.Err.Error(), "Order.Deleted") {
		t.Fatalf("err = %v, want ErrNoRoute naming the key", rec.Err)
	}
}

func TestRouterCustomNotFoundGetsRootMiddleware(t *testing.T) {
	var trace []string
	r := warren.NewRouter()
	r.Use(func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
			trace = append(trace, "mw")
			return next.ServeMessage(ctx, m)
		})
	})
	r.NotFound(warren.HandlerFunc(func(context.Context, *warren.Message) error {
		trace = append(trace, "notfound")
		return warren.Drop(errors.New("ignored"))
	}))
	rec := warrentest.Serve(r, warrentest.NewMessage("x", nil))
	if !rec.Dropped() || strings.Join(trace, ",") != "mw,notfound" {
		t.Fatalf("trace %v outcome %v", trace, rec.Outcome.Action)
	}
}

func recordMW(name string, trace *[]string) warren.Middleware {
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
			*trace = append(*trace, name)
			return next.ServeMessage(ctx, m)
		})
	}
}

func TestRouterMiddlewareOrderAndScope(t *testing.T) {
	var trace []string
	r := warren.NewRouter()
	r.Use(recordMW("root", &trace))
	r.With(recordMW("with", &trace)).HandleFunc("a", func(context.Context, *warren.Message) error {
		trace = append(trace, "a")
		return nil
	})
	r.Group(func(g *warren.Router) {
		g.Use(recordMW("group", &trace))
		g.HandleFunc("b", func(context.Context, *warren.Message) error { trace = append(trace, "b"); return nil })
	})
	r.Route("Order", func(s *warren.Router) {
		s.Use(recordMW("sub", &trace))
		s.HandleFunc("Created", func(context.Context, *warren.Message) error { trace = append(trace, "oc"); return nil })
	})
	r.HandleFunc("c", func(context.Context, *warren.Message) error { trace = append(trace, "c"); return nil })

	for key, want := range map[string]string{
		"a":             "root,with,a",
		"b":             "root,group,b",
		"Order.Created": "root,sub,oc",
		"c":             "root,c",
	} {
		trace = nil
		warrentest.Serve(r, warrentest.NewMessage(key, nil))
		if got := strings.Join(trace, ","); got != want {
			t.Errorf("key %q: trace %q, want %q", key, got, want)
		}
	}
	want := []string{"a", "b", "Order.Created", "c"}
	if got := r.Routes(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Routes() = %v, want %v", got, want)
	}
}

func expectPanic(t *testing.T, wants ...string) {
	t.Helper()
	r := recover()
	if r == nil {
		t.Fatalf("no panic, want one containing %q", wants)
	}
	msg, _ := r.(string)
	if !strings.HasPrefix(msg, "warren: ") {
		t.Fatalf("panic %q does not start with warren:", msg)
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Fatalf("panic %q does not contain %q", msg, w)
		}
	}
}

func TestRouterDuplicatePatternPanicsNamingBothSites(t *testing.T) {
	defer expectPanic(t, `"Order.Created"`, "mounted twice", "router_test.go")
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", func(context.Context, *warren.Message) error { return nil })
	r.Route("Order", func(s *warren.Router) {
		s.HandleFunc("Created", func(context.Context, *warren.Message) error { return nil })
	})
}

func TestRouterUseAfterHandlePanics(t *testing.T) {
	defer expectPanic(t, "Use must be called before")
	r := warren.NewRouter()
	r.Route("x", func(s *warren.Router) {
		s.HandleFunc("y", func(context.Context, *warren.Message) error { return nil })
	})
	r.Use(recordMW("late", new([]string)))
}

func TestRouterMalformedPatternPanicsWithReason(t *testing.T) {
	defer expectPanic(t, `"Order*"`, "mixes a wildcard")
	warren.NewRouter().HandleFunc("Order*", func(context.Context, *warren.Message) error { return nil })
}

func TestRouterDispatchDoesNotAllocate(t *testing.T) {
	r := warren.NewRouter()
	for _, p := range []string{"Order.Created", "Order.*", "audit.#", "#.Deleted"} {
		r.HandleFunc(p, func(context.Context, *warren.Message) error { return nil })
	}
	msg := &warren.Message{RoutingKey: "x.y.Deleted"}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if err := r.ServeMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("dispatch allocated %v times per message, want 0", allocs)
	}
	if msg.Route != "#.Deleted" {
		t.Fatalf("Route = %q", msg.Route)
	}
}

func TestRouterMatch(t *testing.T) {
	r := warren.NewRouter()
	r.HandleFunc("a.*", func(context.Context, *warren.Message) error { return nil })
	if p, ok := r.Match("a.b"); !ok || p != "a.*" {
		t.Fatalf("Match(a.b) = %q %v", p, ok)
	}
	if _, ok := r.Match("b"); ok {
		t.Fatal("Match(b) matched")
	}
}
