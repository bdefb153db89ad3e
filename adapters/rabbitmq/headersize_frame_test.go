package rabbitmq

import (
	"context"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestCopyHeadersFitNegotiatedFrameMax is defect 12 of issue 11: a
// dead-letter copy's headers must fit the frame_max negotiated on the
// publish connection, not a constant 126 KiB. The client negotiates 16 KiB
// (the smaller of its WithFrameMax and the broker's frame_max, so the same
// as a broker configured with 16 KiB); a panicking handler's copy of a
// message with 11 KB of headers would need about 19 KB. warren must drop
// the stack trace and cut the message so that the copy fits: the dead
// letter arrives with warren's headers and no connection is lost.
func TestCopyHeadersFitNegotiatedFrameMax(t *testing.T) {
	obs := &connObserver{}
	client := newTestClient(t, WithFrameMax(16<<10), WithObserver(obs))
	assertCopyFitsFrame(t, client, obs)
}

// assertCopyFitsFrame sends a message with 11 KB of headers to a
// panicking handler through client, whose connections negotiated a 16 KiB
// frame_max: the dead letter must arrive with warren's headers, and no
// connection be lost.
func assertCopyFitsFrame(t *testing.T, client *Client, obs *connObserver) {
	t.Helper()
	if got := client.publish.frameSize(); got != 16<<10 {
		t.Fatalf("publish connection negotiated frame_max %d, want %d", got, 16<<10)
	}
	spec := testSpec(t)
	r := warren.NewRouter()
	r.HandleFunc("big", func(context.Context, *warren.Message) error {
		panic(strings.Repeat("a long panic value ", 400))
	})
	cons, err := client.NewConsumer(context.Background(), r, spec)
	if err != nil {
		t.Fatal(err)
	}
	runConsumer(t, cons)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	publishTo(t, ctx, client.Publisher(), spec.Exchange.Name, "big", `{}`, amqp.Table{"pad": strings.Repeat("p", 11000)})
	ch := brokertest.Channel(t)
	dlq := warren.DeadLetterQueue(spec.Queue.Name)
	eventually(t, 15*time.Second, "the dead letter", func() bool { return depth(t, ch, dlq) == 1 })
	d := drain(t, ch, dlq)[0]
	if d.Headers[warren.HeaderReason] != warren.ReasonError {
		t.Errorf("dead letter without warren's reason (the broker dead-lettered it): %v", d.Headers[warren.HeaderReason])
	}
	if lost := obs.lost(); len(lost) != 0 {
		t.Errorf("connections lost: %v (a header frame larger than frame_max)", lost)
	}
}
