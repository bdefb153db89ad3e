// Package middleware holds warren's light middleware: Recover, Timeout,
// CorrelationID and Decode. It imports only the standard library and the
// warren root package; the observability middleware that pull in heavier
// dependencies live in the subpackages logging (zap and log/slog), metrics
// (Prometheus), otelmetrics (OpenTelemetry metrics) and tracing
// (OpenTelemetry traces).
//
// A typical stack, outermost first:
//
//	r := warren.NewRouter()
//	r.Use(
//		middleware.CorrelationID,   // before logging, so the log line has the id
//		logging.Middleware(logger), // one line per message
//		m.Middleware(),             // metrics: duration, in flight
//		tracing.Middleware(),       // a consumer span per message
//		middleware.Recover,         // inside the observers: they see the panic as an error
//		middleware.Timeout(30*time.Second),
//		middleware.Decode(types),
//	)
//
// Every middleware here is safe for concurrent use by many workers.
package middleware
