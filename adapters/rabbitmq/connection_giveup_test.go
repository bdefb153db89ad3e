package rabbitmq

import (
	"errors"
	"testing"

	"github.com/warren-mq/warren"
)

// TestBothGiveUpsReportOneClose: when the consume and publish connections
// give up at the same moment, each connection's ConnClosed is reported
// once, whichever give-up ends it first. CI once saw two for the consume
// connection in TestGiveUpEndsEverything: its own, and its sibling's.
func TestBothGiveUpsReportOneClose(t *testing.T) {
	own := &gaveUpError{conn: "svc.consume", attempts: 3, last: errors.New("connection refused")}
	sibling := &gaveUpError{conn: "svc.publish", attempts: 3, last: errors.New("connection refused")}
	for _, order := range []string{"sibling first", "own first"} {
		t.Run(order, func(t *testing.T) {
			log := &connLog{}
			c := &connection{name: "svc.consume", cfg: &config{observer: log}, done: make(chan struct{})}
			if order == "sibling first" {
				c.abort(sibling)
				c.giveUp(own, "127.0.0.1:5672", 3)
			} else {
				c.giveUp(own, "127.0.0.1:5672", 3)
				c.abort(sibling)
			}
			closed := log.count("svc.consume", func(e warren.ConnectionEvent) bool {
				return e.State == warren.ConnClosed && errors.Is(e.Err, ErrGaveUp)
			})
			if closed != 1 {
				t.Errorf("%d ConnClosed events, want 1\n%s", closed, log)
			}
			select {
			case <-c.done:
			default:
				t.Error("done not closed")
			}
		})
	}
}
