package compare

import (
	"context"
	"errors"
	"sync"
	"testing"

	rabbitmq "github.com/wagslane/go-rabbitmq"

	"github.com/warren-mq/warren/bench/benchkit"
)

// gorabbitmqConsumer is go-rabbitmq's Consumer, one per queue on one
// connection, with the scenario's prefetch and its Concurrency option set
// to the scenario's workers (that many goroutines read the deliveries, run
// the handler and ack each message).
var gorabbitmqConsumer = benchkit.Consumer{
	Lib: "gorabbitmq",
	Prepare: func(b *testing.B, run *benchkit.ConsumeRun) benchkit.ConsumeFunc {
		s := run.Scenario
		conn := gorabbitmqConn(b, run.URL)
		consumers := make([]*rabbitmq.Consumer, len(run.Queues))
		for i, q := range run.Queues {
			c, err := rabbitmq.NewConsumer(conn, q,
				rabbitmq.WithConsumerOptionsQueueDurable,
				rabbitmq.WithConsumerOptionsQOSPrefetch(s.Prefetch),
				rabbitmq.WithConsumerOptionsConcurrency(s.Workers),
				rabbitmq.WithConsumerOptionsLogger(quiet{}),
			)
			if err != nil {
				b.Fatalf("go-rabbitmq consumer: %v", err)
			}
			consumers[i] = c
		}
		handler := func(d rabbitmq.Delivery) rabbitmq.Action {
			run.Handle(d.Body)
			return rabbitmq.Ack
		}
		return func(ctx context.Context) error {
			stopped := make(chan error, len(consumers))
			var wg sync.WaitGroup
			for _, c := range consumers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Run declares the queue, starts consuming and
					// returns once Close has been called.
					stopped <- c.Run(handler)
				}()
			}
			var err error
			select {
			case <-ctx.Done():
			case err = <-stopped: // a consumer gave up on its own
			}
			for _, c := range consumers {
				c.Close() // waits for running handlers, closes the channel
			}
			wg.Wait()
			close(stopped)
			for e := range stopped {
				err = errors.Join(err, e)
			}
			return err
		}
	},
}

// gorabbitmqConn dials go-rabbitmq's connection (with its reconnection
// manager), closed when b ends.
func gorabbitmqConn(b *testing.B, url string) *rabbitmq.Conn {
	conn, err := rabbitmq.NewConn(url, rabbitmq.WithConnectionOptionsLogger(quiet{}))
	if err != nil {
		b.Fatalf("go-rabbitmq connection: %v", err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return conn
}

// quiet is a go-rabbitmq logger that drops everything: its default logger
// writes every start and stop to the benchmark output.
type quiet struct{}

func (quiet) Fatalf(string, ...any) {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Warnf(string, ...any)  {}
func (quiet) Infof(string, ...any)  {}
func (quiet) Debugf(string, ...any) {}
