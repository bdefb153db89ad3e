package bench

import (
	"testing"

	"github.com/warren-mq/warren/bench/benchkit"
)

// publishers are the libraries the publish sweep measures. Add warren's
// here.
var publishers = []benchkit.Publisher{
	rawPublisher,
}

// targetPublishers are the libraries measured on issue 3's publish target.
// Add warren's here.
var targetPublishers = []benchkit.Publisher{
	rawPublisher,
}

// BenchmarkPublish publishes persistent messages with publisher confirms to
// a fresh queue; b.N is the number of messages (make bench:
// benchkit.SweepMessages).
func BenchmarkPublish(b *testing.B) {
	benchkit.RunPublish(b, benchkit.PublishScenarios, publishers...)
}

// BenchmarkTargetPublish is the publish target of issue 3, run by make
// bench with benchkit.TargetMessages messages.
func BenchmarkTargetPublish(b *testing.B) {
	benchkit.RunPublish(b, benchkit.TargetPublishScenarios, targetPublishers...)
}
