package middleware

import (
	"context"
	"runtime/debug"

	"github.com/warren-mq/warren"
)

// Recover turns a panic in the handler into a *warren.PanicError that
// carries the panic value and the stack of the goroutine that panicked:
//
//	r := warren.NewRouter()
//	r.Use(middleware.Recover)
//
// The worker survives and the message settles as the handler's error would:
// a PanicError is an ordinary error, so it is retried and then dead-lettered
// with reason "error". PanicError unwraps to the panic value when that is an
// error, so a handler that panics with warren.Permanent(err) dead-letters at
// once, as if it had returned it.
//
// Mount Recover inside the logging, metrics and tracing middleware so that
// they see the panic as the handler's error. Recover does not catch
// runtime.Goexit, nor panics in goroutines the handler starts.
func Recover(next warren.Handler) warren.Handler {
	return warren.HandlerFunc(func(ctx context.Context, msg *warren.Message) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = &warren.PanicError{Value: v, Stack: debug.Stack()}
			}
		}()
		return next.ServeMessage(ctx, msg)
	})
}
