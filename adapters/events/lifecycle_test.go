package events

import (
	"errors"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// TestGiveUpClosesConsumers: when the client's recovery gives up (an
// outage through a proxy that outlasts 3 attempts 100 ms apart), a stream
// consumer's channel closes within a second and the error handler gets
// the give-up (the channel stayed open and the handler heard nothing).
func TestGiveUpClosesConsumers(t *testing.T) {
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	proxy := toxiproxy.NewProxy(server, t.Name(), "127.0.0.1:0", "127.0.0.1:5672")
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	e := newEnvAt(t, "amqp://guest:guest@"+proxy.Listen+"/", rabbitmq.WithReconnectInterval(100*time.Millisecond, 3))
	events := e.consume(e.topic("orders"))
	group := e.consume(e.topic("payments", "billing"), WithGroup("billing"))

	proxy.Stop()
	select {
	case <-e.client.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the client did not give up")
	}
	gaveUp := time.Now()
	for name, ch := range map[string]<-chan Event{"stream": events, "group": group} {
		select {
		case _, ok := <-ch:
			for ok { // drain: nothing was published, but be safe
				_, ok = <-ch
			}
			t.Logf("%s consumer's channel closed %v after the give-up", name, time.Since(gaveUp).Round(time.Millisecond))
		case <-time.After(time.Second - time.Since(gaveUp)):
			t.Fatalf("%s consumer's channel still open 1 s after the give-up", name)
		}
	}
	eventually(t, time.Second, "the error handler told of the give-up", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		n := 0
		for _, err := range e.errs {
			if errors.Is(err, rabbitmq.ErrGaveUp) {
				n++
			}
		}
		return n == 2
	})
}
