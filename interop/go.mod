module github.com/warren-mq/warren/interop

go 1.26.0

replace github.com/warren-mq/warren => ../

require (
	github.com/rabbitmq/amqp091-go v1.16.0
	github.com/warren-mq/warren v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require github.com/cenkalti/backoff/v4 v4.3.0 // indirect
