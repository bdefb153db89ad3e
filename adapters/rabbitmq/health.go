package rabbitmq

import "fmt"

// Healthy returns nil while the client is alive, and Err once it is done
// (closed, or recovery gave up): wire it to a liveness probe, so that a
// client that will never recover gets its process restarted. An outage
// under recovery is not unhealthy: see Ready.
func (c *Client) Healthy() error { return c.Err() }

// Ready returns nil while the client's connections are up and every
// consumer made from it is consuming (one stopped by a graceful shutdown
// does not count), else a one-line reason: the client is done, a
// connection is down and recovering, a consumer is starting, recovering or
// stopped with an error. Wire it to a readiness probe. The health package
// serves both over HTTP.
func (c *Client) Ready() error {
	if err := c.Err(); err != nil {
		return err
	}
	for _, conn := range []*connection{c.consume, c.publish} {
		if !conn.isUp() {
			return fmt.Errorf("connection %s is down, recovering", conn.name)
		}
	}
	c.mu.Lock()
	consumers := append([]*Consumer(nil), c.consumers...)
	c.mu.Unlock()
	for _, cons := range consumers {
		if err := cons.notReady(); err != nil {
			return err
		}
	}
	return nil
}
