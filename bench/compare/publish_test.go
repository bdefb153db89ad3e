package compare

import (
	"testing"

	"github.com/warren-mq/warren/bench/benchkit"
)

// publishers are the libraries BenchmarkPublish measures in this module.
var publishers = []benchkit.Publisher{
	watermillPublisher,
	gorabbitmqPublisher,
}

// BenchmarkPublish publishes persistent messages with publisher confirms;
// b.N is the number of messages. The same scenarios as warren's bench/.
func BenchmarkPublish(b *testing.B) {
	benchkit.RunPublish(b, benchkit.PublishScenarios, publishers...)
}
