//go:build brokerfault

package rabbitmq

import "testing"

// TestBrokerFrameMaxSmallerThanDefault is defect 12 of issue 11 against a
// broker whose frame_max is 16 KiB (set on the running broker for new
// connections, restored in Cleanup), the client asking for nothing: the
// copy's headers fit the size the broker imposed, not RabbitMQ's default.
func TestBrokerFrameMaxSmallerThanDefault(t *testing.T) {
	t.Cleanup(brokerEnv(t, "frame_max", "16384"))
	obs := &connObserver{}
	client := newTestClient(t, WithObserver(obs))
	assertCopyFitsFrame(t, client, obs)
}
