package main

import (
	"context"
	"errors"

	"github.com/warren-mq/warren"
)

func checkTopology(ctx context.Context, e *env, d warren.Description, o *describeOptions) int {
	return fail(e, errors.New("topology --check: not built yet"))
}
