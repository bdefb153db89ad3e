#!/usr/bin/env bash
# callgrind.sh counts the client's instructions per message in each
# library's timed interval, under valgrind's callgrind (see
# benchkit.CallgrindEnv). Unlike msg/s and CPU seconds on a shared machine,
# the counts repeat within about 2% from run to run.
#
#   bench/callgrind.sh [-n messages] [-r rounds] [-b benchmark] [-s levels] [-C dir] [lib ...]
#
# Defaults: 5,000 messages, 3 rounds, BenchmarkTargetConsume, and the libs
# raw-autoack raw-multiack raw-ack warren. -s adds the sub-benchmark levels
# after lib= (anchored by the caller, e.g. '^queues=1$/^prefetch=1$/^size=256$/^handler=noop$');
# -C runs the test package in that directory under bench/ (compare, for
# watermill and gorabbitmq). Each run's profile is kept in
# $CALLGRIND_DIR (default: a new temporary directory), as
# <lib>.<round>.out.<part>, for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")"

n=5000 rounds=3 bench=BenchmarkTargetConsume levels="" pkg=.
while getopts n:r:b:s:C: opt; do
	case $opt in
	n) n=$OPTARG ;;
	r) rounds=$OPTARG ;;
	b) bench=$OPTARG ;;
	s) levels=/$OPTARG ;;
	C) pkg=$OPTARG ;;
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
cd "$pkg"
go test -c -o "$bin" .

echo "instructions per message, $n messages, $bench (profiles in $dir)"
for round in $(seq "$rounds"); do
	for lib in "${libs[@]}"; do
		# GOMAXPROCS=1: valgrind runs one thread at a time, and idle Ps
		# would spin looking for work. asyncpreemptoff: callgrind cannot
		# follow the runtime's preemption signals.
		# Callgrind now and then trips its own assertion on a signal
		# (vgCallgrind_post_signal); such a run is tried again, twice.
		for try in 1 2 3; do
			rm -f "$dir/$lib.$round.out"*
			GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 BENCH_CALLGRIND=1 \
				valgrind --tool=callgrind --instr-atstart=no -q \
				--callgrind-out-file="$dir/$lib.$round.out" \
				"$bin" -test.run '^$' -test.bench "^$bench\$/^lib=$lib\$$levels" -test.benchtime "${n}x" >"$dir/$lib.$round.log" 2>&1 && break
			if [ "$try" = 3 ] || ! grep -q 'vgCallgrind_post_signal' "$dir/$lib.$round.log"; then
				cat "$dir/$lib.$round.log" >&2
				exit 1
			fi
			echo "callgrind.sh: callgrind crashed on a signal; running $lib round $round again" >&2
		done
		# One part per timed interval; go test's first run of each
		# benchmark (b.N = 1) makes one too, which is skipped.
		for part in $(ls "$dir/$lib.$round.out".* | sort -t. -k4 -n); do
			name=$(sed -n "s/^desc: Trigger: dump \(.*\)_N-$n\$/\1/p" "$part")
			[ -n "$name" ] || continue
			total=$(awk '/^totals:/ {print $2}' "$part")
			printf '%8d  round %d  %s\n' $((total / n)) "$round" "$name"
		done
	done
done
