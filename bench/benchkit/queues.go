package benchkit

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// QueueName returns a name no other benchmark, test or developer sharing
// the broker uses: the benchmark's name plus random bytes.
func QueueName(tb testing.TB, what string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := strings.NewReplacer("/", ".", " ", "_", "=", "-").Replace(tb.Name())
	return "warren-bench." + n + "." + what + "." + hex.EncodeToString(b[:])
}

// Queues declares n durable classic queues with unique names (no arguments,
// so every library can redeclare them as it would its own) and deletes them
// when tb ends, whether it passed or not.
func Queues(tb testing.TB, conn *amqp.Connection, n int) []string {
	tb.Helper()
	ch := Channel(tb, conn)
	defer ch.Close()
	names := make([]string, n)
	for i := range names {
		names[i] = QueueName(tb, "q"+strconv.Itoa(i))
		// Register the deletion before declaring, so a failure between
		// the two still cleans up.
		brokertest.DeleteQueues(tb, names[i])
		if _, err := ch.QueueDeclare(names[i], true, false, false, false, nil); err != nil {
			tb.Fatalf("benchkit: declare queue %s: %v", names[i], err)
		}
	}
	return names
}

// Depth returns how many messages are ready in each queue and their sum.
// Messages delivered but not yet acknowledged are not counted, so once every
// consumer's channel is closed, a depth of zero means everything was acked.
func Depth(tb testing.TB, conn *amqp.Connection, queues []string) (total int, each []int) {
	tb.Helper()
	ch := Channel(tb, conn)
	defer ch.Close()
	each = make([]int, len(queues))
	for i, q := range queues {
		st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		if err != nil {
			tb.Fatalf("benchkit: inspect queue %s: %v", q, err)
		}
		each[i] = st.Messages
		total += st.Messages
	}
	return total, each
}
