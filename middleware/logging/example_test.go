package logging_test

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"go.uber.org/zap"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/middleware"
	"github.com/warren-mq/warren/middleware/logging"
	"github.com/warren-mq/warren/warrentest"
)

func ExampleMiddleware() {
	logger := zap.NewExample() // JSON on stdout, no timestamps

	r := warren.NewRouter()
	r.Use(middleware.CorrelationID, logging.Middleware(logger, logging.DisableAcks()), middleware.Recover)
	r.HandleFunc("Order.*", func(ctx context.Context, msg *warren.Message) error {
		logging.FromContext(ctx).Info("charging card", zap.Int("cents", 1299))
		return nil // acked: no line, DisableAcks
	})

	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil,
		warrentest.WithQueue("orders"), warrentest.WithMessageID("m-1")))
	// Output:
	// {"level":"info","msg":"charging card","queue":"orders","route":"Order.*","routing_key":"Order.Created","message_id":"m-1","correlation_id":"m-1","attempt":1,"cents":1299}
}

func ExampleFromContext() {
	ctx := logging.NewContext(context.Background(), zap.NewExample())
	logging.FromContext(ctx).Info("outside a handler")
	logging.FromContext(context.Background()).Info("no logger: dropped")
	// Output:
	// {"level":"info","msg":"outside a handler"}
}

func ExampleNewObserver() {
	obs := logging.NewObserver(zap.NewExample())
	var o warren.Observer = warren.Observers{obs} // what the transport is given

	o.ObserveConnection(warren.ConnectionEvent{Name: "orders.consume", State: warren.ConnDown, Attempt: 1,
		Err: errors.New("dial amqp://orders:s3cret@rabbit:5672/: connection refused")})
	o.ObserveConnection(warren.ConnectionEvent{Name: "orders.consume", State: warren.ConnUp, Attempt: 2})
	// Output:
	// {"level":"warn","msg":"connection down","connection":"orders.consume","attempt":1,"error":"dial amqp://orders:xxxxx@rabbit:5672/: connection refused"}
	// {"level":"info","msg":"connection recovered","connection":"orders.consume","attempt":2}
}

func ExampleSampleAcks() {
	logger := zap.NewExample()
	r := warren.NewRouter()
	r.Use(logging.Middleware(logger, logging.SampleAcks(100))) // one ack line in 100
	r.HandleFunc("#", func(context.Context, *warren.Message) error { return nil })
}

// ExampleSlogMiddleware is Middleware for services on log/slog: the same
// lines, levels and fields.
func ExampleSlogMiddleware() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { // no timestamps, for the example
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))

	r := warren.NewRouter()
	r.Use(logging.SlogMiddleware(logger), middleware.Recover)
	r.HandleFunc("Order.*", func(ctx context.Context, msg *warren.Message) error {
		logging.SlogFromContext(ctx).Info("charging card", "cents", 1299)
		return warren.DeadLetter("invalid", errors.New("card token=abc123 rejected"))
	})

	warrentest.Serve(r, warrentest.NewMessage("Order.Created", nil,
		warrentest.WithQueue("orders"), warrentest.WithMessageID("m-1")))
	// Output:
	// {"level":"INFO","msg":"charging card","queue":"orders","route":"Order.*","routing_key":"Order.Created","message_id":"m-1","correlation_id":"","attempt":1,"cents":1299}
	// {"level":"ERROR","msg":"message dead-lettered","queue":"orders","route":"Order.*","routing_key":"Order.Created","message_id":"m-1","correlation_id":"","attempt":1,"outcome":"dead-letter","reason":"invalid","error":"card token=xxxxx rejected"}
}

func ExampleNewSlogObserver() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	var o warren.Observer = logging.NewSlogObserver(logger) // what the transport is given

	o.ObserveConnection(warren.ConnectionEvent{Name: "orders.consume", State: warren.ConnDown, Attempt: 1,
		Err: errors.New("dial amqp://orders:s3cret@rabbit:5672/: connection refused")})
	// Output:
	// level=WARN msg="connection down" connection=orders.consume attempt=1 error="dial amqp://orders:xxxxx@rabbit:5672/: connection refused"
}
