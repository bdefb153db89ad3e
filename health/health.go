// Package health serves a client's liveness and readiness over HTTP for
// Kubernetes probes and load balancers, with the standard library only.
//
//	mux.Handle("/livez", health.Handler(client))
//	mux.Handle("/readyz", health.Handler(client))
//
// or mount the one handler under a prefix: it answers any path ending in
// /livez with Live and any ending in /readyz with Ready. 200 "ok", or 503
// and a one-line reason.
//
// A *rabbitmq.Client is a Checker: it is live until it is done (closed, or
// its recovery gave up: restart the process), and ready while its
// connections are up and all its consumers consume (take it out of
// rotation while it recovers).
package health

import (
	"net/http"
	"strings"
)

// Checker is what the probes ask: Healthy returns nil while the service
// is alive, Ready nil while it can do its work; otherwise why not.
type Checker interface {
	Healthy() error
	Ready() error
}

// Handler serves checker's probes: a path ending in /livez asks Healthy, one
// ending in /readyz asks Ready; others get 404. Only GET and HEAD are
// allowed.
func Handler(checker Checker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var err error
		switch {
		case strings.HasSuffix(r.URL.Path, "/livez"):
			err = checker.Healthy()
		case strings.HasSuffix(r.URL.Path, "/readyz"):
			err = checker.Ready()
		default:
			http.NotFound(w, r)
			return
		}
		answer(w, err)
	})
}

// LiveHandler answers every request with checker's Healthy.
func LiveHandler(checker Checker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w, checker.Healthy()) })
}

// ReadyHandler answers every request with checker's Ready.
func ReadyHandler(checker Checker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w, checker.Ready()) })
}

// answer writes 200 "ok", or 503 and err's text on one line.
func answer(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err == nil {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(oneLine(err.Error()) + "\n"))
}

// oneLine folds s onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
