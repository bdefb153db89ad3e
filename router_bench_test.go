package warren_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/warren-mq/warren"
)

// routerWith mounts n routes: mostly literals over 3 words, with a tenth of
// them using "*" and a twentieth using "#", like a service that consumes
// many event types.
func routerWith(n int, mws ...warren.Middleware) *warren.Router {
	r := warren.NewRouter()
	r.Use(mws...)
	noop := func(context.Context, *warren.Message) error { return nil }
	for i := 0; i < n; i++ {
		var p string
		switch {
		case i%20 == 19:
			p = fmt.Sprintf("svc%d.#", i)
		case i%10 == 9:
			p = fmt.Sprintf("svc%d.*.Created", i)
		default:
			p = fmt.Sprintf("svc%d.Entity%d.Created", i%50, i)
		}
		r.HandleFunc(p, noop)
	}
	r.HandleFunc("audit.#", noop)
	r.HandleFunc("#.Deleted", noop)
	return r
}

func BenchmarkRouterMatch(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		r := routerWith(n)
		keys := []string{
			fmt.Sprintf("svc%d.Entity%d.Created", (n-2)%50, n-2), // literal
			fmt.Sprintf("svc%d.Anything.Created", n-1),           // "*"
			"audit.login.failed.twice",                           // "#" suffix
			"x.y.Deleted",                                        // "#" prefix
		}
		for _, k := range keys {
			if _, ok := r.Match(k); !ok {
				b.Fatalf("%d routes: key %q unmatched", n, k)
			}
		}
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r.Match(keys[i%len(keys)])
			}
		})
	}
}

func passThrough(next warren.Handler) warren.Handler {
	return warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
		return next.ServeMessage(ctx, m)
	})
}

func BenchmarkServeMessage(b *testing.B) {
	for _, mw := range []int{0, 5} {
		mws := make([]warren.Middleware, mw)
		for i := range mws {
			mws[i] = passThrough
		}
		r := routerWith(100, mws...)
		msg := &warren.Message{RoutingKey: "svc19.Entity69.Created"}
		ctx := context.Background()
		b.Run(fmt.Sprintf("middleware=%d", mw), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := r.ServeMessage(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTypedDecode(b *testing.B) {
	h := warren.Typed(func(context.Context, OrderCreated) error { return nil })
	msg := &warren.Message{RoutingKey: "Order.Created", ContentType: "application/json",
		Body: []byte(`{"id":"o-12345","total":4200}`)}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg.Body)))
	for i := 0; i < b.N; i++ {
		if err := h.ServeMessage(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRouterMatchTrailingHash matches keys of 2 to 12 words against a
// pattern that ends in "#", the catch-all route of a consumer that takes
// everything from its queue (or everything below a prefix).
func BenchmarkRouterMatchTrailingHash(b *testing.B) {
	for _, pattern := range []string{"#", "orders.#"} {
		r := warren.NewRouter()
		r.HandleFunc(pattern, func(context.Context, *warren.Message) error { return nil })
		for _, words := range []int{2, 12} {
			key := "orders"
			for i := 1; i < words; i++ {
				key += fmt.Sprintf(".w%d", i)
			}
			if _, ok := r.Match(key); !ok {
				b.Fatalf("%q: key %q unmatched", pattern, key)
			}
			b.Run(fmt.Sprintf("pattern=%s/words=%d", pattern, words), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					r.Match(key)
				}
			})
		}
	}
}
