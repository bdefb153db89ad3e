package health_test

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/warren-mq/warren/health"
)

type recovering struct{}

func (recovering) Healthy() error { return nil }
func (recovering) Ready() error   { return errors.New("connection orders.consume is down, recovering") }

// ExampleHandler mounts the probes of a checker (a *rabbitmq.Client in a
// service) and asks both.
func ExampleHandler() {
	srv := httptest.NewServer(health.Handler(recovering{}))
	defer srv.Close()
	for _, path := range []string{"/livez", "/readyz"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		fmt.Printf("%s %d %s", path, resp.StatusCode, body)
	}
	// Output:
	// /livez 200 ok
	// /readyz 503 connection orders.consume is down, recovering
}
