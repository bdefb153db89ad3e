package rabbitmq

import "errors"

func asTopologyError(err error, te **TopologyError) bool { return errors.As(err, te) }
