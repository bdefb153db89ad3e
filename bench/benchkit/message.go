package benchkit

import (
	amqp "github.com/rabbitmq/amqp091-go"
)

// Body returns a message body of size bytes. Its content is fixed printable
// text, so nothing downstream can tell one size from another except by
// length.
func Body(size int) []byte {
	const text = "warren benchmark payload. "
	b := make([]byte, size)
	for i := range b {
		b[i] = text[i%len(text)]
	}
	return b
}

// Publishing returns the message the benchmarks publish and fill queues
// with: persistent, with a content type, the body shared (amqp091-go does
// not keep it after publishing).
func Publishing(body []byte) amqp.Publishing {
	return amqp.Publishing{
		DeliveryMode: amqp.Persistent,
		ContentType:  "application/octet-stream",
		Body:         body,
	}
}
