#!/usr/bin/env bash
# table.sh turns the outputs of bench/run.sh into the results section of
# bench/README.md (between the benchtable markers), and writes benchstat's
# own view, every library side by side, to bench/benchstat.txt.
#
#   bench/table.sh [main-output compare-output]
#
# Both tools come from bench/compare's go.mod (benchstat is a tool
# dependency there, golang.org/x/perf at a pinned version), so warren's own
# go.mod never sees them.
set -euo pipefail
cd "$(dirname "$0")"
go=${GO:-go}

main=$(realpath "${1:-e2e-main.txt}")
compare=$(realpath "${2:-e2e-compare.txt}")
for f in "$main" "$compare"; do
  [ -s "$f" ] || { echo "table.sh: $f is missing or empty; run bench/run.sh first" >&2; exit 1; }
done

cd compare
$go tool benchstat -ignore pkg -col /lib -filter '.unit:(msg/s OR allocs/op)' "$main" "$compare" >../benchstat.txt
$go run ./cmd/benchtable -readme ../README.md "$main" "$compare"
echo "table.sh: wrote bench/README.md (results section) and bench/benchstat.txt" >&2
