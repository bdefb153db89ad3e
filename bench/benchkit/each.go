package benchkit

import (
	"context"
	"errors"
	"sync"
)

// Each runs f(ctx, i) for i in [0, n) at once, each in its own goroutine,
// and returns when all have returned, with their errors joined. A library
// that consumes several queues runs one consumer per queue with it.
func Each(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(ctx, i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
