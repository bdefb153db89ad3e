package deadletter

import (
	"context"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
)

// ErrNoOrigin is reported for a message whose original exchange, routing
// key or failed queue is unknown (no x-original-* or x-warren-queue
// headers, no usable x-death): it cannot be replayed.
var ErrNoOrigin = errors.New("warren/deadletter: original exchange, routing key or queue unknown")

// ReplayOptions selects what Replay moves.
type ReplayOptions struct {
	Filter
	// DryRun reports what would move and moves nothing.
	DryRun bool
}

// ReplayResult is what Replay did.
type ReplayResult struct {
	// Replayed are the messages republished and removed from the
	// dead-letter queue; in a dry run, those that would be.
	Replayed []Entry
	// Failed are the selected messages left in the dead-letter queue, with
	// why.
	Failed []ReplayFailure
	DryRun bool
}

// ReplayFailure is a message Replay left in the dead-letter queue.
type ReplayFailure struct {
	Entry Entry
	Err   error
}

// Replay moves the messages of the queue named dlq that opts selects back
// to the queue they failed in (Entry.Queue), and only to it: other queues
// bound to the original routing key do not see them again. Each passes
// through the queue's ReplayQueue, which the broker dead-letters to the
// queue at once, with the original exchange and routing key in
// x-original-* (the consumer dispatches it by them, trusting them because
// the broker's x-death entry shows it came back from the queue's own wait
// queue). A replayed message keeps its body, properties and headers, but
// not the headers that record the failure (the x-exception-*, x-warren-*
// and x-death family), so its attempt count starts again at 1.
//
// Each message is published mandatory on a channel in confirm mode, and
// its dead-letter copy is acknowledged only once the broker confirmed the
// publish. A message that cannot be replayed stays in the dead-letter
// queue, in its place, and is reported in ReplayResult.Failed: an unknown
// origin or queue (ErrNoOrigin), a queue whose dead-letter queue is not dlq
// (ErrForeignQueue), a queue that no longer exists (ErrQueueNotFound), an
// unroutable publish, a negative confirm. If ctx ends while a publish
// awaits its confirm, the message stays too, and may then exist twice:
// replay is at least once, never at most once.
//
// The error is non-nil when the queue could not be read, when ctx ended,
// or when any selected message failed (it then wraps the first failure).
func (in *Inspector) Replay(ctx context.Context, dlq string, opts ReplayOptions) (ReplayResult, error) {
	res := ReplayResult{DryRun: opts.DryRun}
	pub := &republisher{conn: in.conn}
	defer pub.close()
	prepared := map[string]error{}
	err := in.scan(ctx, dlq, func(ch *amqp.Channel, d *amqp.Delivery) (bool, error) {
		e := EntryOf(d)
		if !opts.match(&e) {
			return false, nil
		}
		switch {
		case !e.HasOrigin || e.Queue == "":
			res.Failed = append(res.Failed, ReplayFailure{Entry: e, Err: ErrNoOrigin})
		case warren.DeadLetterQueue(e.Queue) != dlq:
			res.Failed = append(res.Failed, ReplayFailure{Entry: e, Err: fmt.Errorf("%w: %q failed in %q", ErrForeignQueue, e.MessageID, e.Queue)})
		case opts.DryRun:
			res.Replayed = append(res.Replayed, e)
		default:
			perr, done := prepared[e.Queue]
			if !done {
				perr = prepareReplay(in.conn, e.Queue)
				prepared[e.Queue] = perr
			}
			if perr != nil {
				res.Failed = append(res.Failed, ReplayFailure{Entry: e, Err: perr})
				break
			}
			if err := pub.publish(ctx, "", ReplayQueue(e.Queue), replayCopy(&e, d)); err != nil {
				res.Failed = append(res.Failed, ReplayFailure{Entry: e, Err: err})
				if ctx.Err() != nil {
					return true, ctx.Err()
				}
				break
			}
			if err := ch.Ack(d.DeliveryTag, false); err != nil {
				err = fmt.Errorf("warren/deadletter: replayed %q but could not remove it from %q, it is now in both: %w", e.MessageID, dlq, err)
				res.Failed = append(res.Failed, ReplayFailure{Entry: e, Err: err})
				return true, err
			}
			res.Replayed = append(res.Replayed, e)
		}
		return opts.full(len(res.Replayed) + len(res.Failed)), nil
	})
	if err != nil {
		return res, err
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("warren/deadletter: %d of %d messages not replayed from %q, first: %w",
			len(res.Failed), len(res.Failed)+len(res.Replayed), dlq, res.Failed[0].Err)
	}
	return res, nil
}

// replayStripped are the headers that record a failure; a replayed message
// starts again without them.
var replayStripped = []string{
	warren.HeaderExceptionMessage,
	warren.HeaderExceptionStacktrace,
	warren.HeaderOriginalExchange,
	warren.HeaderOriginalRoutingKey,
	warren.HeaderAttempt,
	warren.HeaderRoute,
	warren.HeaderQueue,
	warren.HeaderReason,
	warren.HeaderFailedAt,
	DeliveryCountHeader,
	"x-death",
	"x-first-death-exchange",
	"x-first-death-queue",
	"x-first-death-reason",
	"x-last-death-exchange",
	"x-last-death-queue",
	"x-last-death-reason",
}

// ReplayPublishing returns the message Replay publishes for d: its body,
// properties and headers without the failure headers.
func ReplayPublishing(d *amqp.Delivery) amqp.Publishing {
	h := make(amqp.Table, len(d.Headers))
	for k, v := range d.Headers {
		h[k] = v
	}
	for _, k := range replayStripped {
		delete(h, k)
	}
	return amqp.Publishing{
		Headers:         h,
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    d.DeliveryMode,
		Priority:        d.Priority,
		CorrelationId:   d.CorrelationId,
		ReplyTo:         d.ReplyTo,
		Expiration:      d.Expiration,
		MessageId:       d.MessageId,
		Timestamp:       d.Timestamp,
		Type:            d.Type,
		UserId:          d.UserId,
		AppId:           d.AppId,
		Body:            d.Body,
	}
}
