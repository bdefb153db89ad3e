package compare

import (
	"testing"

	"github.com/warren-mq/warren/bench/benchkit"
)

// consumers are the libraries BenchmarkConsume measures in this module.
var consumers = []benchkit.Consumer{
	watermillConsumer,
	gorabbitmqConsumer,
}

// BenchmarkConsume drains pre-filled queues of persistent messages; b.N is
// the number of messages. The same scenarios as warren's bench/.
func BenchmarkConsume(b *testing.B) {
	benchkit.RunConsume(b, benchkit.ConsumeScenarios, consumers...)
}
