package partition

import (
	"context"
	"errors"
	"fmt"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// ErrNoHashExchange reports that the broker does not know the
// x-consistent-hash exchange type: the rabbitmq_consistent_hash_exchange
// plugin is off.
var ErrNoHashExchange = errors.New("warren/rabbitmq/partition: the broker has no x-consistent-hash exchange type: " +
	"enable it with `rabbitmq-plugins enable rabbitmq_consistent_hash_exchange` (scripts/broker.sh does)")

// declare declares t: exchanges, queues and queue bindings through the
// client, then the exchange-to-exchange bindings on a channel of its own
// (rabbitmq.Client.Declare does not declare those).
func declare(ctx context.Context, client *rabbitmq.Client, t warren.Topology) error {
	if err := client.Declare(ctx, t); err != nil {
		return hashExchangeError(err)
	}
	if len(t.ExchangeBindings) == 0 {
		return nil
	}
	ch, err := client.Channel(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	for _, b := range t.ExchangeBindings {
		if err := ch.ExchangeBind(b.Destination, b.Key, b.Source, false, b.Args); err != nil {
			return fmt.Errorf("warren/rabbitmq/partition: bind exchange %q to %q [%s]: %w", b.Destination, b.Source, b.Key, err)
		}
	}
	return nil
}

// hashExchangeError turns the broker's refusal of an unknown exchange type
// (COMMAND_INVALID, "unknown exchange type", or NOT_FOUND on some versions)
// into ErrNoHashExchange, keeping the broker's error in the chain.
func hashExchangeError(err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) && (ae.Code == amqp.CommandInvalid || ae.Code == amqp.NotFound) &&
		strings.Contains(ae.Reason, "exchange type") {
		return fmt.Errorf("%w: %w", ErrNoHashExchange, err)
	}
	return err
}
