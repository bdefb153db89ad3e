package events

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/warren-mq/warren"
)

// maxName is the longest AMQP short string: exchange and queue names and
// routing keys.
const maxName = 255

// Names of the broker objects of a stream or store. They follow warren's
// conventions (warren.StreamExchange, warren.ServiceQueue,
// warren.DeadLetterQueue).

// StreamQueue returns the stream queue that stores topic's events for the
// stream exchange: "<exchange>.stream.<topic>".
func StreamQueue(exchange, topic string) string { return exchange + ".stream." + topic }

// GroupQueue returns the queue the consumers of group share for topic:
// "<exchange>.queue.<group>.<topic>".
func GroupQueue(exchange, group, topic string) string {
	return warren.ServiceQueue(exchange, group) + "." + topic
}

// StoreQueue returns the stream queue a Store named name keeps topic in:
// "<name>.store.<topic>".
func StoreQueue(name, topic string) string { return name + ".store." + topic }

// ValidateTopic reports whether topic can be published and consumed:
// it must be non-empty, valid UTF-8 (the broker closes the whole
// connection, not just the channel, on a malformed short string), contain
// no '*' or '#' word (topics are literal routing keys, not patterns), and
// be short enough that every queue name built from it fits in 255 bytes.
func ValidateTopic(topic string) error {
	if topic == "" {
		return ErrMissingTopic
	}
	if !utf8.ValidString(topic) {
		return fmt.Errorf("%w %q: not valid UTF-8", ErrInvalidTopic, topic)
	}
	for _, w := range strings.Split(topic, ".") {
		if w == "*" || w == "#" {
			return fmt.Errorf("%w %q: the word %q is a wildcard; topics are literal routing keys", ErrInvalidTopic, topic, w)
		}
	}
	if len(topic) > maxName {
		return fmt.Errorf("%w: topic is %d bytes; AMQP allows %d", ErrInvalidTopic, len(topic), maxName)
	}
	return nil
}

// checkQueueName reports a queue name derived from topic that is too long.
func checkQueueName(topic, queue string) error {
	if len(queue) > maxName {
		return fmt.Errorf("%w: topic of %d bytes makes the queue name %d bytes (%.40q...); AMQP allows %d",
			ErrInvalidTopic, len(topic), len(queue), queue, maxName)
	}
	return nil
}

// validateName checks a stream or store name.
func validateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w %q: not valid UTF-8", ErrInvalidName, name)
	case strings.HasPrefix(name, "amq."):
		return fmt.Errorf("%w %q: the prefix amq. is reserved by the broker", ErrInvalidName, name)
	case len(warren.StreamExchange(name)) > maxName:
		return fmt.Errorf("%w: %d bytes is too long", ErrInvalidName, len(name))
	}
	return nil
}

// validateGroup checks a consumer group name.
func validateGroup(group string) error {
	switch {
	case !utf8.ValidString(group):
		return fmt.Errorf("%w: group %q is not valid UTF-8", ErrInvalidName, group)
	case strings.Contains(group, "."):
		return fmt.Errorf("%w: group %q contains '.', which would make its queue name ambiguous", ErrInvalidName, group)
	case len(group) > maxName:
		return fmt.Errorf("%w: group of %d bytes is too long", ErrInvalidName, len(group))
	}
	return nil
}
