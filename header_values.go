package warren

import amqp "github.com/rabbitmq/amqp091-go"

// HeaderString reads a string header; []byte values count as strings.
// Anything else, and a missing header, reports false.
func HeaderString(h amqp.Table, key string) (string, bool) { return headerString(h, key) }

// HeaderInt reads an integer header of any AMQP integer type, or a decimal
// string. Anything else (floats, tables, garbage), and a missing header,
// reports false: headers may come from any publisher.
func HeaderInt(h amqp.Table, key string) (int64, bool) { return headerInt(h, key) }
