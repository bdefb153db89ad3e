package logging_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/warren-mq/warren/middleware/logging"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		"no urls here":                       "no urls here",
		"amqp://guest:guest@localhost:5672/": "amqp://guest:xxxxx@localhost:5672/",
		"amqps://svc:p%40ss@mq.example/prod": "amqps://svc:xxxxx@mq.example/prod",
		"amqp://guest@localhost/":            "amqp://guest@localhost/",
		"amqp://localhost:5672/vh":           "amqp://localhost:5672/vh",
		"amqp://u:pa/ss@host/":               "amqp://u:xxxxx@host/",
		"amqp://u:p@ss@host":                 "amqp://u:xxxxx@host",
		"amqp://:only@host":                  "amqp://:xxxxx@host",
		"AMQP://U:P@H":                       "AMQP://U:xxxxx@H",
		`dial "amqp://a:b@h1/" then amqp://c:d@h2 failed`: `dial "amqp://a:xxxxx@h1/" then amqp://c:xxxxx@h2 failed`,
		"http://user:pw@proxy:3128 amqp://x":              "http://user:xxxxx@proxy:3128 amqp://x",
		"ends with amqp://":                               "ends with amqp://",
	} {
		if got := logging.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactURLNeverLeaks(t *testing.T) {
	const alphabet = "abcXYZ0123456789:/@%?#&=+-_.~!$*()[],;"
	rnd := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 5000 {
		password := "PW" + word(12) + "PW"
		url := "amqp://user:" + password + "@host:5672/" + strings.ReplaceAll(word(6), "@", "")
		for _, s := range []string{url, "error: " + url + " refused", `"` + url + `"`} {
			if got := logging.RedactURL(s); strings.Contains(got, password) {
				t.Fatalf("RedactURL(%q) = %q leaks the password", s, got)
			}
		}
	}
}

func TestRedactURLNoAllocWithoutURL(t *testing.T) {
	s := "handler failed: connection refused"
	if n := testing.AllocsPerRun(100, func() { _ = logging.RedactURL(s) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
