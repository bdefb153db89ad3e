package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
)

func runAsyncAPI(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("warren asyncapi", flag.ContinueOnError)
	file := fs.String("file", "", "a service's description (JSON from warren.WriteDescription); - reads stdin (required)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: warren asyncapi --file F\n\nPrints the AsyncAPI 3.0 document of a service from its description.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parse(e, fs, args); !ok {
		return code
	}
	if *file == "" {
		return usageError(e, fs, "--file is required")
	}
	return fail(e, errors.New("asyncapi: not built yet"))
}
