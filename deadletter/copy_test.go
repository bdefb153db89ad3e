package deadletter

import (
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

func TestCopiesDoNotExpire(t *testing.T) {
	msg := &warren.Message{Queue: "q", RoutingKey: "k", Expiration: "60000", Body: []byte("b"), MessageID: "m"}
	for name, p := range map[string]*warren.Publishing{
		"dead letter": Publishing(msg, warren.ReasonError, errors.New("x"), time.Now()),
		"retry":       RetryPublishing(msg, errors.New("x"), time.Now(), "q.retry.5s"),
	} {
		if p.Expiration != "" || !p.Mandatory || p.Exchange != "" || p.MessageId != "m" || string(p.Body) != "b" {
			t.Errorf("%s copy: %+v", name, p)
		}
	}
	if msg.Expiration != "60000" {
		t.Error("the original message was changed")
	}
}

func TestExceptionMessageHidesURLPasswords(t *testing.T) {
	msg := &warren.Message{Queue: "q"}
	h := Headers(msg, warren.ReasonError, errors.New("dial amqp://svc:s3cret@broker:5672/: refused"), time.Now())
	got, _ := h[warren.HeaderExceptionMessage].(string)
	if got != "dial amqp://svc:xxxxx@broker:5672/: refused" {
		t.Fatalf("x-exception-message = %q", got)
	}
}

func TestMegabyteErrorIsCut(t *testing.T) {
	msg := &warren.Message{Queue: "q"}
	h := Headers(msg, warren.ReasonError, errors.New(strings.Repeat("x", 1<<20)), time.Now())
	got, _ := h[warren.HeaderExceptionMessage].(string)
	if len(got) == 0 || len(got) > warren.MaxHeaderValue {
		t.Fatalf("x-exception-message of %d bytes, want 1 to %d", len(got), warren.MaxHeaderValue)
	}
}

// TestCopiesDropDeliveryCount is defect 13 of issue 11: a quorum queue's
// x-delivery-count counts the deliveries of one message in that queue; a
// retry, dead-letter or replayed copy is a new message there and must not
// carry the old count (a replayed message was dead-lettered at its first
// requeue).
func TestCopiesDropDeliveryCount(t *testing.T) {
	h := amqp.Table{DeliveryCountHeader: int64(7), "keep": "me"}
	msg := &warren.Message{Queue: "q", RoutingKey: "k", Headers: h}
	for name, p := range map[string]amqp.Table{
		"dead letter": Publishing(msg, warren.ReasonError, errors.New("x"), time.Now()).Headers,
		"retry":       RetryPublishing(msg, errors.New("x"), time.Now(), "q.retry.5s").Headers,
		"replay":      ReplayPublishing(&amqp.Delivery{Headers: h}).Headers,
	} {
		if _, ok := p[DeliveryCountHeader]; ok {
			t.Errorf("%s copy keeps x-delivery-count: %v", name, p)
		}
		if p["keep"] != "me" {
			t.Errorf("%s copy lost the message's own header: %v", name, p)
		}
	}
	if h[DeliveryCountHeader] != int64(7) {
		t.Error("the original headers were changed")
	}
}
