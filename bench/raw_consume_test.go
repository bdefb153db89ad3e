package bench

import (
	"context"
	"errors"
	"sync"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/bench/benchkit"
)

// rawMode is how the raw amqp091-go baseline settles messages.
type rawMode string

const (
	// rawAck acks each message after its handler returns.
	rawAck rawMode = "raw-ack"
	// rawMultiAck acks with multiple=true every prefetch/2 messages, and
	// the rest when it stops; it needs handlers to finish in order, so it
	// runs with one worker only.
	rawMultiAck rawMode = "raw-multiack"
	// rawAutoAck consumes with auto-ack: the broker forgets a message as
	// it sends it, and prefetch does not apply. The delivery ceiling.
	rawAutoAck rawMode = "raw-autoack"
)

// rawConsumer is the baseline: the loop a careful user writes on
// amqp091-go. One channel per queue with basic.qos = prefetch. With one
// worker the delivery loop runs the handler and acks inline; with N
// workers it hands deliveries over an unbuffered channel to N goroutines,
// each of which runs the handler and acks its own message.
func rawConsumer(mode rawMode) benchkit.Consumer {
	return benchkit.Consumer{
		Lib: string(mode),
		Supports: func(s benchkit.ConsumeScenario) bool {
			switch mode {
			case rawMultiAck:
				return s.Workers == 1 && s.Prefetch > 1
			case rawAutoAck:
				return s.Handler.Name == benchkit.Noop.Name
			}
			return true
		},
		Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
			conn := benchkit.Dial(b, string(mode))
			chans := make([]*amqp.Channel, len(run.Queues))
			for i := range chans {
				chans[i] = benchkit.Channel(b, conn)
				if err := chans[i].Qos(run.Scenario.Prefetch, 0, false); err != nil {
					b.Fatalf("qos: %v", err)
				}
			}
			return func(ctx context.Context) error {
				return benchkit.Each(ctx, len(chans), func(ctx context.Context, i int) error {
					return rawDrain(ctx, chans[i], run.Queues[i], mode, run)
				})
			}
		},
	}
}

// rawDrain consumes queue on ch until ctx is done, then settles what it
// owes and closes ch.
func rawDrain(ctx context.Context, ch *amqp.Channel, queue string, mode rawMode, run *benchkit.ConsumeRun) error {
	deliveries, err := ch.Consume(queue, "", mode == rawAutoAck, false, false, false, nil)
	if err != nil {
		return err
	}
	var loopErr error
	if run.Scenario.Workers > 1 {
		loopErr = rawPool(ctx, deliveries, mode, run)
	} else {
		loopErr = rawLoop(ctx, ch, deliveries, mode, run)
	}
	return errors.Join(loopErr, ch.Close())
}

// rawLoop runs the handler inline, in the delivery loop.
func rawLoop(ctx context.Context, ch *amqp.Channel, deliveries <-chan amqp.Delivery, mode rawMode, run *benchkit.ConsumeRun) error {
	every := uint64(max(1, run.Scenario.Prefetch/2))
	var last, unacked uint64
	for {
		select {
		case <-ctx.Done():
			if unacked > 0 {
				return ch.Ack(last, true)
			}
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return amqp.ErrClosed
			}
			run.Handle(d.Body)
			switch mode {
			case rawAck:
				if err := d.Ack(false); err != nil {
					return err
				}
			case rawMultiAck:
				last, unacked = d.DeliveryTag, unacked+1
				if unacked == every {
					if err := d.Ack(true); err != nil {
						return err
					}
					unacked = 0
				}
			}
		}
	}
}

// rawPool hands deliveries to run.Scenario.Workers goroutines that each run
// the handler and ack (per message: with handlers finishing out of order,
// a multiple ack could settle a message still being handled).
func rawPool(ctx context.Context, deliveries <-chan amqp.Delivery, mode rawMode, run *benchkit.ConsumeRun) error {
	jobs := make(chan amqp.Delivery)
	errs := make([]error, run.Scenario.Workers)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				run.Handle(d.Body)
				if mode != rawAutoAck && errs[w] == nil {
					errs[w] = d.Ack(false)
				}
			}
		}()
	}
	err := rawDispatch(ctx, deliveries, jobs)
	close(jobs)
	wg.Wait()
	return errors.Join(err, errors.Join(errs...))
}

// rawDispatch hands deliveries to jobs until ctx is done.
func rawDispatch(ctx context.Context, deliveries <-chan amqp.Delivery, jobs chan<- amqp.Delivery) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return amqp.ErrClosed
			}
			select {
			case jobs <- d:
			case <-ctx.Done():
				return nil
			}
		}
	}
}
