package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// key identifies one measured thing: a benchmark kind (Consume, Publish),
// its scenario (the name without the library) and the library.
type key struct {
	kind, scenario, lib string
}

// samples are one key's measurements over all rounds, in round order.
type samples struct {
	msgPerSec, cpuPerMsg, allocs []float64
	iters                        []int
}

// resultSet is everything read from the inputs.
type resultSet struct {
	byKey  map[key]*samples
	order  []key             // first appearance
	config map[string]string // file configuration: goos, cpu, ...
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// readResults parses go test -bench outputs.
func readResults(files []string) (*resultSet, error) {
	set := &resultSet{byKey: map[key]*samples{}, config: map[string]string{}}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		r := benchfmt.NewReader(f, name)
		for r.Scan() {
			res, ok := r.Result().(*benchfmt.Result)
			if !ok {
				continue // unit metadata or a syntax error: not ours
			}
			for _, c := range res.Config {
				if c.File && c.Key != "pkg" {
					set.config[c.Key] = string(c.Value)
				}
			}
			set.add(res)
		}
		err = r.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(set.order) == 0 {
		return nil, fmt.Errorf("no benchmark results with a lib= name in %s", strings.Join(files, ", "))
	}
	return set, nil
}

// add files one result under its key; results without a lib= part are not
// end-to-end benchmarks and are skipped.
func (s *resultSet) add(res *benchfmt.Result) {
	full := procSuffix.ReplaceAllString(string(res.Name.Full()), "")
	parts := strings.Split(full, "/")
	k := key{kind: parts[0]}
	var scenario []string
	for _, p := range parts[1:] {
		if lib, ok := strings.CutPrefix(p, "lib="); ok {
			k.lib = lib
		} else {
			scenario = append(scenario, p)
		}
	}
	if k.lib == "" {
		return
	}
	k.scenario = strings.Join(scenario, "/")
	sm := s.byKey[k]
	if sm == nil {
		sm = &samples{}
		s.byKey[k] = sm
		s.order = append(s.order, k)
	}
	if v, ok := res.Value("msg/s"); ok {
		sm.msgPerSec = append(sm.msgPerSec, v)
	}
	if v, ok := res.Value("cpu-us/msg"); ok {
		sm.cpuPerMsg = append(sm.cpuPerMsg, v)
	}
	if v, ok := res.Value("allocs/op"); ok {
		sm.allocs = append(sm.allocs, v)
	}
	sm.iters = append(sm.iters, res.Iters)
}
