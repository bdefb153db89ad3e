package health

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type fakeChecker struct{ live, ready error }

func (f fakeChecker) Healthy() error { return f.live }
func (f fakeChecker) Ready() error   { return f.ready }

func probe(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestHandlerAnswersEachProbe(t *testing.T) {
	for _, tc := range []struct {
		name        string
		checker     fakeChecker
		path        string
		code        int
		bodyContain string
	}{
		{"live", fakeChecker{}, "/livez", 200, "ok"},
		{"ready", fakeChecker{}, "/readyz", 200, "ok"},
		{"not ready", fakeChecker{ready: errors.New("connection x is down,\nrecovering")}, "/readyz", 503, "connection x is down, recovering"},
		{"not ready but live", fakeChecker{ready: errors.New("down")}, "/livez", 200, "ok"},
		{"dead", fakeChecker{live: errors.New("gave up"), ready: errors.New("gave up")}, "/livez", 503, "gave up"},
		{"under a prefix", fakeChecker{}, "/health/readyz", 200, "ok"},
		{"other path", fakeChecker{}, "/metrics", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := probe(t, Handler(tc.checker), http.MethodGet, tc.path)
			if code != tc.code || !strings.Contains(body, tc.bodyContain) {
				t.Fatalf("GET %s: %d %q, want %d containing %q", tc.path, code, body, tc.code, tc.bodyContain)
			}
			if code != 404 && strings.Count(body, "\n") != 1 {
				t.Fatalf("body %q is not one line", body)
			}
		})
	}
}

func TestHandlerRefusesPost(t *testing.T) {
	if code, _ := probe(t, Handler(fakeChecker{}), http.MethodPost, "/livez"); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", code)
	}
}

func TestLiveAndReadyHandlers(t *testing.T) {
	c := fakeChecker{ready: errors.New("consumer of q is recovering")}
	if code, _ := probe(t, LiveHandler(c), http.MethodGet, "/anything"); code != 200 {
		t.Fatalf("LiveHandler: %d", code)
	}
	if code, body := probe(t, ReadyHandler(c), http.MethodGet, "/anything"); code != 503 || body != "consumer of q is recovering\n" {
		t.Fatalf("ReadyHandler: %d %q", code, body)
	}
}
