module github.com/warren-mq/warren/interop

go 1.26.0

replace github.com/warren-mq/warren => ../

require github.com/rabbitmq/amqp091-go v1.16.0
