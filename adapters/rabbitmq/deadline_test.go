package rabbitmq

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// deadlineSlack is how late past its deadline a publish may return: the
// bound is 100 ms; the rest is for a loaded 2-core test machine.
const deadlineSlack = 100*time.Millisecond + 150*time.Millisecond

// timedPublish publishes body on client with a timeout and returns how
// long it took and its error.
func timedPublish(client *Client, timeout time.Duration, body []byte) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err := client.Publisher().Publish(ctx, &warren.Publishing{Exchange: "amq.direct", RoutingKey: "nowhere",
		Publishing: amqp.Publishing{Body: body}})
	return time.Since(start), err
}

// shortPublishFailsInTime publishes with a 500 ms deadline while the
// broker cannot take it (when says why): the publish must fail, and
// return by its deadline.
func shortPublishFailsInTime(t *testing.T, client *Client, when string) {
	t.Helper()
	took, err := timedPublish(client, 500*time.Millisecond, []byte("short"))
	t.Logf("500 ms publish %s returned after %v: %v", when, took.Round(time.Millisecond), err)
	if err == nil {
		t.Fatalf("500 ms publish %s succeeded", when)
	}
	if took > 500*time.Millisecond+deadlineSlack {
		t.Errorf("500 ms publish %s returned after %v", when, took)
	}
}

// TestShortPublishBehindLongOneDuringOutage: during an outage, a publish
// with a 500 ms deadline behind one with a 10 s deadline returns by its
// own deadline (it waited behind the other's lock until recovery).
func TestShortPublishBehindLongOneDuringOutage(t *testing.T) {
	proxy := startOutageProxy(t)
	log := &connLog{}
	client := dialThrough(t, proxy, WithReconnect(50*time.Millisecond, 200*time.Millisecond, 0), WithObserver(log))
	if _, err := timedPublish(client, 5*time.Second, []byte("warm")); err != nil {
		t.Fatal(err)
	}
	proxy.down()
	eventually(t, 5*time.Second, "outage noticed", func() bool {
		return log.count(client.Name()+".publish", func(e warren.ConnectionEvent) bool { return e.State == warren.ConnDown }) > 0
	})
	long := make(chan error, 1)
	go func() { _, err := timedPublish(client, 10*time.Second, []byte("long")); long <- err }()
	time.Sleep(100 * time.Millisecond) // the long one is waiting first
	shortPublishFailsInTime(t, client, "behind a 10 s one during an outage")
	time.AfterFunc(time.Second, func() { proxy.up(t) })
	if err := <-long; err != nil {
		t.Errorf("the long publish, after recovery: %v", err)
	}
}

// TestShortPublishWhileBrokerStopsReading: the broker stops reading the
// publishing connection; deferred publishes of 4 MiB fill the socket
// buffers until a write stalls. A 500 ms publish behind the stalled one
// returns by its deadline (it waited until heartbeats killed the
// connection), and the stalled write fails the connection after the write
// timeout instead of waiting for the broker.
func TestShortPublishWhileBrokerStopsReading(t *testing.T) {
	proxy := startOutageProxy(t)
	const writeTimeout = 3 * time.Second
	client := dialThrough(t, proxy, WithReconnect(50*time.Millisecond, 200*time.Millisecond, 0),
		WithHeartbeat(5*time.Second), WithWriteTimeout(writeTimeout))
	if _, err := timedPublish(client, 5*time.Second, []byte("warm")); err != nil {
		t.Fatal(err)
	}
	filled, stalled := stallPublishing(t, proxy, client)
	shortPublishFailsInTime(t, client, "while the broker stopped reading")
	select {
	case err := <-filled:
		t.Logf("the stalled send failed %v after its last progress (write timeout %v): %v",
			time.Since(stalled).Round(time.Millisecond), writeTimeout, err)
	case <-time.After(writeTimeout + 5*time.Second):
		t.Errorf("the stalled send still waiting %v after its last progress", time.Since(stalled).Round(time.Millisecond))
	}
}

// stallPublishing makes the broker stop reading client's publishing
// connection (through proxy) and publishes 4 MiB messages until a write
// stalls: none made progress for 300 ms. It returns when one has, with the
// time of the last progress; filled gets the error the stalled send ends
// with.
func stallPublishing(t *testing.T, proxy *outageProxy, client *Client) (filled <-chan error, stalled time.Time) {
	t.Helper()
	proxy.stopReading(t)
	chunk := make([]byte, 4<<20)
	var lastSent atomic.Int64
	lastSent.Store(time.Now().UnixNano())
	errc := make(chan error, 1)
	go func() { // until a send fails: the stalled one
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for i := 0; ; i++ {
			_, err := client.Publisher().PublishDeferred(ctx, &warren.Publishing{Exchange: "amq.direct", RoutingKey: "nowhere",
				Publishing: amqp.Publishing{Body: chunk}})
			if err != nil {
				errc <- fmt.Errorf("after %d MiB: %w", 4*i, err)
				return
			}
			lastSent.Store(time.Now().UnixNano())
		}
	}()
	eventually(t, 30*time.Second, "a write stalled", func() bool {
		return time.Since(time.Unix(0, lastSent.Load())) > 300*time.Millisecond
	})
	return errc, time.Unix(0, lastSent.Load())
}
