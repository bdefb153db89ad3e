#!/usr/bin/env bash
# callgrind.sh counts the client's instructions per message in each
# library's timed interval, under valgrind's callgrind (see
# benchkit.CallgrindEnv). Unlike msg/s and CPU seconds on a shared machine,
# the counts repeat within about 2% from run to run.
#
#   bench/callgrind.sh [-n messages] [-r rounds] [-b benchmark] [lib ...]
#
# Defaults: 5,000 messages, 3 rounds, BenchmarkTargetConsume, and the libs
# raw-autoack raw-multiack raw-ack warren. Each run's profile is kept in
# $CALLGRIND_DIR (default: a new temporary directory), as
# <lib>.<round>.out.<part>, for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")"

n=5000 rounds=3 bench=BenchmarkTargetConsume
while getopts n:r:b: opt; do
	case $opt in
	n) n=$OPTARG ;;
	r) rounds=$OPTARG ;;
	b) bench=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
libs=("$@")
[ ${#libs[@]} -gt 0 ] || libs=(raw-autoack raw-multiack raw-ack warren)

for tool in valgrind callgrind_control; do
	command -v "$tool" >/dev/null || { echo "callgrind.sh: $tool not found (apt-get install valgrind)" >&2; exit 1; }
done
dir=${CALLGRIND_DIR:-$(mktemp -d -t warren-callgrind.XXXXXX)}
mkdir -p "$dir"
bin=$dir/bench.test
go test -c -o "$bin" .

echo "instructions per message, $n messages, $bench (profiles in $dir)"
for round in $(seq "$rounds"); do
	for lib in "${libs[@]}"; do
		rm -f "$dir/$lib.$round.out"*
		# GOMAXPROCS=1: valgrind runs one thread at a time, and idle Ps
		# would spin looking for work. asyncpreemptoff: callgrind cannot
		# follow the runtime's preemption signals.
		GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 BENCH_CALLGRIND=1 \
			valgrind --tool=callgrind --instr-atstart=no -q \
			--callgrind-out-file="$dir/$lib.$round.out" \
			"$bin" -test.run '^$' -test.bench "^$bench\$/^lib=$lib\$" -test.benchtime "${n}x" >"$dir/$lib.$round.log" 2>&1 ||
			{ cat "$dir/$lib.$round.log" >&2; exit 1; }
		# The last part is the N-message interval (the first is b.N = 1).
		part=$(ls "$dir/$lib.$round.out".* | sort -t. -k4 -n | tail -1)
		total=$(awk '/^totals:/ {print $2}' "$part")
		printf '%-14s round %d  %8d\n' "$lib" "$round" $((total / n))
	done
done
