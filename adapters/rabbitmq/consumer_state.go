package rabbitmq

import (
	"fmt"
	"sync"
)

// ConsumerState is where a consumer is in its life (Consumer.State).
type ConsumerState uint8

const (
	// ConsumerStarting: Run has not been called yet, or has not yet
	// subscribed for the first time.
	ConsumerStarting ConsumerState = iota
	// ConsumerConsuming: subscribed to its queue and taking deliveries.
	ConsumerConsuming
	// ConsumerRecovering: its channel or connection was lost, or could not
	// be opened, and it is trying again.
	ConsumerRecovering
	// ConsumerStopped: Run returned, with the error State reports (nil
	// after a graceful shutdown).
	ConsumerStopped
)

// String names the state.
func (s ConsumerState) String() string {
	switch s {
	case ConsumerStarting:
		return "starting"
	case ConsumerConsuming:
		return "consuming"
	case ConsumerRecovering:
		return "recovering"
	case ConsumerStopped:
		return "stopped"
	default:
		return "unknown"
	}
}

// consumerStatus is a consumer's state and, once stopped, Run's error.
type consumerStatus struct {
	mu    sync.Mutex
	state ConsumerState
	err   error
}

func (s *consumerStatus) set(state ConsumerState, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == ConsumerStopped {
		return
	}
	s.state, s.err = state, err
}

func (s *consumerStatus) get() (ConsumerState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.err
}

// State returns where the consumer is: starting, consuming, recovering, or
// stopped with the error Run returned (nil after a graceful shutdown).
// Client.Ready reports a consumer that is not consuming.
func (c *Consumer) State() (ConsumerState, error) { return c.status.get() }

// notReady returns why the consumer does not count as ready, or nil: it
// is consuming, or it was stopped on purpose.
func (c *Consumer) notReady() error {
	state, err := c.status.get()
	switch {
	case state == ConsumerConsuming:
		return nil
	case state == ConsumerStopped && err == nil:
		return nil
	case state == ConsumerStopped:
		return fmt.Errorf("consumer of %s stopped: %v", c.spec.Queue.Name, err)
	default:
		return fmt.Errorf("consumer of %s is %s", c.spec.Queue.Name, state)
	}
}
