package rabbitmq

import (
	"errors"
	"fmt"
	"net/url"

	amqp "github.com/rabbitmq/amqp091-go"
)

// checkURL refuses a URL that does not parse, without showing it (url.Parse
// errors quote the raw URL, password included), and a TLS configuration
// with a plain amqp:// URL, which would otherwise connect unencrypted.
func checkURL(raw string, cfg *config) error {
	u, err := amqp.ParseURI(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return errors.New("warren/rabbitmq: the AMQP URL does not parse (it is not shown: it may hold a password)")
		}
		return fmt.Errorf("warren/rabbitmq: bad AMQP URL: %v", err)
	}
	if cfg.tls != nil && u.Scheme != "amqps" {
		return errors.New("warren/rabbitmq: WithTLS needs an amqps:// URL; this one is amqp:// and would connect in plain text")
	}
	return nil
}
