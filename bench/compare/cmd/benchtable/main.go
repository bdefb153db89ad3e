// Command benchtable turns go test -bench outputs of warren's end-to-end
// benchmarks (bench/ and bench/compare, several rounds each) into the
// markdown tables of bench/README.md: per scenario and library, the median
// msg/s with its 95% confidence interval (benchstat's statistics, from
// golang.org/x/perf/benchmath), the ratio to raw amqp091-go in the same
// scenario, allocs/op, and where the run happened; then the focus
// library's msg/s and CPU per message as ratios to every other library's,
// paired round by round, with their confidence intervals.
//
// Usage:
//
//	benchtable [-readme bench/README.md] e2e-main.txt e2e-compare.txt
//
// With -readme, the tables replace what is between the markers
// <!-- benchtable:begin --> and <!-- benchtable:end --> in that file;
// without it they go to standard output.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	readme := flag.String("readme", "", "markdown file whose benchtable section to replace (default: print)")
	focus := flag.String("focus", "warren", "library whose rows get a note when an alternative is faster")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchtable [-readme FILE] [-focus LIB] bench-output...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*readme, *focus, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(readme, focus string, files []string) error {
	set, err := readResults(files)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	writeEnvironment(&out, set)
	writeTables(&out, set, focus)
	writePaired(&out, set, focus)
	if readme == "" {
		_, err := os.Stdout.Write(out.Bytes())
		return err
	}
	return replaceSection(readme, out.Bytes())
}
