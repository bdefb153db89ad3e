package warren_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

// logged is a middleware that prints the route each message took.
func logged(name string) warren.Middleware {
	return func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
			fmt.Printf("%s: %s\n", name, m.Route)
			return next.ServeMessage(ctx, m)
		})
	}
}

func ok(context.Context, *warren.Message) error { return nil }

// With adds middleware to the routes mounted through it only; Group does
// the same for the routes its function mounts.
func ExampleRouter_With() {
	r := warren.NewRouter()
	r.HandleFunc("Order.Created", ok)
	r.With(logged("audited")).HandleFunc("Order.Cancelled", ok)
	r.Group(func(g *warren.Router) {
		g.Use(logged("admin"))
		g.HandleFunc("admin.#", ok)
	})

	for _, key := range []string{"Order.Created", "Order.Cancelled", "admin.user.deleted"} {
		warrentest.Serve(r, warrentest.NewMessage(key, nil))
	}
	// Output:
	// audited: Order.Cancelled
	// admin: admin.#
}

// NotFound handles the messages no route matches; by default they are
// dead-lettered with reason "no-route". Match tells which route a key would
// take.
func ExampleRouter_NotFound() {
	r := warren.NewRouter()
	r.HandleFunc("Order.*", ok)
	r.NotFound(warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
		return warren.Drop(errors.New("not ours: " + m.RoutingKey))
	}))

	fmt.Println(r.Match("Order.Created"))
	fmt.Println(r.Match("User.Created"))
	rec := warrentest.Serve(r, warrentest.NewMessage("User.Created", nil))
	fmt.Println(rec.Dropped(), rec.Err)
	// Output:
	// Order.* true
	//  false
	// true not ours: User.Created
}

// Chain composes middlewares; the first one runs outermost.
func ExampleChain() {
	h := warren.Chain(logged("outer"), logged("inner"))(warren.HandlerFunc(ok))
	warrentest.Serve(h, warrentest.NewMessage("k", nil, func(m *warren.Message) { m.Route = "k" }))
	// Output:
	// outer: k
	// inner: k
}

// Compare orders patterns by specificity, as the router does when several
// routes match one key.
func ExamplePattern_Compare() {
	exact := warren.MustParsePattern("Order.Created")
	star := warren.MustParsePattern("Order.*")
	hash := warren.MustParsePattern("Order.#")
	fmt.Println(exact.Compare(star) > 0, star.Compare(hash) > 0, hash.Compare(exact) < 0)
	// Output: true true true
}
