package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestURLHalf(t *testing.T) {
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
		if got := urls(in); got != want {
			t.Errorf("urls(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestURLsNeverLeaks(t *testing.T) {
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
			if got := urls(s); strings.Contains(got, password) {
				t.Fatalf("urls(%q) = %q leaks the password", s, got)
			}
		}
	}
}

func TestURLsNoAllocWithoutURL(t *testing.T) {
	s := "handler failed: connection refused"
	if n := testing.AllocsPerRun(100, func() { _ = urls(s) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"handler failed":                   "handler failed",
		"a = b":                            "a = b",
		"password=":                        "password=",
		"password=s3cret":                  "password=xxxxx",
		"dsn host=db PASSWORD=x1 user=app": "dsn host=db PASSWORD=xxxxx user=app",
		"GET /?apikey=k1&page=2":           "GET /?apikey=xxxxx&page=2",
		"client_secret=c1, access_token=t1; pwd=p1 passwd='p2' api-key=k2 secret=s1)": "client_secret=xxxxx, access_token=xxxxx; pwd=xxxxx passwd='xxxxx' api-key=xxxxx secret=xxxxx)",
		"dial postgres://app:s3cret@db/orders?sslmode=disable&token=t2":               "dial postgres://app:xxxxx@db/orders?sslmode=disable&token=xxxxx",
		"tokens=3": "tokens=3",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextNeverLeaksPairs(t *testing.T) {
	const alphabet = "abcXYZ0123456789:/@%?#=+-_.~!$*[]"
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		b := make([]byte, 12)
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		secret := "PW" + string(b) + "PW"
		for _, k := range Keys {
			for _, s := range []string{k + "=" + secret, "x " + strings.ToUpper(k) + "=" + secret + " y", "a=1&" + k + "=" + secret + "&b=2"} {
				if got := Text(s); strings.Contains(got, secret) {
					t.Fatalf("Text(%q) = %q leaks the secret", s, got)
				}
			}
		}
	}
}

func TestTextNoAllocWithoutSecret(t *testing.T) {
	s := "handler failed: key=value, connection refused"
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
