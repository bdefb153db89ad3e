package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// versionInfo is what `warren version` prints.
type versionInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Go       string `json:"go"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
}

// buildVersion reads the module version the binary was built from: a
// release ("v1.2.0") when installed with go install ...@version, "(devel)"
// for a build from a checkout, with the VCS revision when go build
// recorded it.
func buildVersion() versionInfo {
	v := versionInfo{Module: "github.com/warren-mq/warren", Version: "(unknown)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Path != "" {
		v.Module, v.Version = bi.Main.Path, bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func runVersion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("warren version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: warren version [--json]\n\nPrints the module version warren was built from, its VCS revision and Go version.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parse(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	v := buildVersion()
	if *asJSON {
		return exitStatus(e, writeJSON(e.stdout, v))
	}
	s := fmt.Sprintf("warren %s (%s", v.Version, v.Go)
	if v.Revision != "" {
		s += ", revision " + v.Revision
		if v.Modified {
			s += "+modified"
		}
	}
	_, err := fmt.Fprintln(e.stdout, s+")")
	return exitStatus(e, err)
}
