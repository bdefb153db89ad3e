package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
)

// parse parses args into fs. Help (-h, --help) prints the usage to stdout
// and returns exitOK; a malformed flag prints the error and the usage to
// stderr (as JSON under --json) and returns exitUsage. ok is true when the
// command should go on.
func parse(e *env, fs *flag.FlagSet, args []string) (code int, ok bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	if j := fs.Lookup("json"); j != nil && j.Value.String() == "true" {
		e.json = true
	}
	switch {
	case err == nil:
		fs.SetOutput(e.stderr)
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		_, _ = e.stdout.Write(out.Bytes())
		return exitOK, false
	default:
		if e.json || hasJSONFlag(args) {
			e.json = true
			writeError(e, fmt.Errorf("%s: %s", fs.Name(), err))
		} else {
			_, _ = e.stderr.Write(out.Bytes())
		}
		return exitUsage, false
	}
}

func hasJSONFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-json" || a == "--json" || a == "-json=true" || a == "--json=true" {
			return true
		}
	}
	return false
}

// usageError reports a misuse of a command (after its flags parsed) and
// returns exitUsage.
func usageError(e *env, fs *flag.FlagSet, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	if e.json {
		writeError(e, fmt.Errorf("%s: %s", fs.Name(), msg))
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", fs.Name(), msg)
	fs.SetOutput(e.stderr)
	fs.Usage()
	return exitUsage
}

// fail reports err and returns exitFail.
func fail(e *env, err error) int {
	writeError(e, err)
	return exitFail
}

// exitStatus is exitOK for a nil err, else fail(e, err).
func exitStatus(e *env, err error) int {
	if err != nil {
		return fail(e, err)
	}
	return exitOK
}

// writeError prints err on stderr: "warren: ..." as text, {"error": "..."}
// under --json.
func writeError(e *env, err error) {
	msg := message(err)
	if e.json {
		_ = writeJSON(e.stderr, struct {
			Error string `json:"error"`
		}{msg})
		return
	}
	fmt.Fprintf(e.stderr, "warren: %s\n", strings.TrimPrefix(msg, "warren: "))
}

// message is err's text without the package prefixes of the libraries
// under the command.
func message(err error) string {
	s := err.Error()
	for _, p := range []string{"warren/deadletter: ", "deadletter: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}
