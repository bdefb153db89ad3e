package main

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/adapters/rabbitmq"
)

// messageID is the id of the soak's message number id.
func messageID(id uint64) string { return "s" + strconv.FormatUint(id, 10) }

// parseID reverses messageID.
func parseID(s string) (uint64, bool) {
	if len(s) < 2 || s[0] != 's' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 10, 64)
	return n, err == nil
}

// publisher sends numbered messages at a steady rate from several
// goroutines, each message until the broker confirms it, as an
// at-least-once producer does.
type publisher struct {
	pub      *rabbitmq.Publisher
	exchange string
	key      string
	body     []byte
	rate     int
	workers  int
	tr       *tracker
	next     atomic.Uint64
}

// run publishes until ctx ends, then finishes the messages it started
// (retrying until they are confirmed or hard ends) and returns.
func (p *publisher) run(ctx, hard context.Context) {
	tokens := make(chan struct{}, p.rate)
	go p.pace(ctx, tokens)
	var wg sync.WaitGroup
	for w := 0; w < p.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tokens {
				p.publishOne(hard, p.next.Add(1)-1)
			}
		}()
	}
	wg.Wait()
}

// pace fills tokens at the target rate, every 10 ms, dropping what the
// publishers cannot take (while a connection recovers, say) so that the
// rate never bursts above the target by more than a second's worth.
func (p *publisher) pace(ctx context.Context, tokens chan<- struct{}) {
	defer close(tokens)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start, given := time.Now(), 0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int(now.Sub(start).Seconds() * float64(p.rate))
			for ; given < due; given++ {
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	}
}

func (p *publisher) publishOne(hard context.Context, id uint64) {
	p.tr.sent.Add(1)
	for hard.Err() == nil {
		ctx, cancel := context.WithTimeout(hard, 30*time.Second)
		err := p.pub.Publish(ctx, &warren.Publishing{Exchange: p.exchange, RoutingKey: p.key,
			Publishing: amqp.Publishing{MessageId: messageID(id), ContentType: "application/json", Body: p.body}})
		cancel()
		if err == nil {
			p.tr.confirm(id)
			return
		}
		p.tr.pubRetries.Add(1)
		time.Sleep(50 * time.Millisecond)
	}
}
