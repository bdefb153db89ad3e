#!/usr/bin/env bash
# run.sh runs the end-to-end benchmarks against RabbitMQ: warren's bench/
# package (raw amqp091-go and warren: the targets of issue 3 and the sweep)
# and the bench/compare module (watermill-amqp and go-rabbitmq: the sweep).
# It runs BENCH_COUNT rounds, each round every set of both modules, so the
# libraries take turns and drift on a shared, noisy machine falls on all of
# them alike. Outputs (go test -bench format) go to bench/e2e-main.txt and
# bench/e2e-compare.txt; bench/table.sh turns them into bench/README.md's
# results. bench/e2e-ceiling.txt has what the sleeping handlers allow with
# no broker (BenchmarkSleepCeiling), once a round.
#
# b.N is the number of messages, so -benchtime=<n>x sets how many each
# benchmark drains or publishes; the targets and the sweep differ, so they
# run as separate processes.
#
#   BENCH_COUNT     rounds (default 6: benchstat needs 6 for a 95% interval)
#   BENCH_TARGET_N  messages per target benchmark (default 100000)
#   BENCH_SWEEP_N   messages per sweep benchmark (default 5000)
#   BENCH_LIB       regexp of the libraries to run (default: all), e.g.
#                   'raw.*|watermill'; ratios need raw-ack and raw
#   AMQP_URL        broker (default amqp://guest:guest@127.0.0.1:5672/)
set -euo pipefail
cd "$(dirname "$0")/.."

count=${BENCH_COUNT:-6}
target_n=${BENCH_TARGET_N:-100000} # benchkit.TargetMessages
sweep_n=${BENCH_SWEEP_N:-5000}     # benchkit.SweepMessages
lib="/^lib=(${BENCH_LIB:-.*})\$"
go=${GO:-go}

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "run.sh: building benchmark binaries" >&2
$go test -c -o "$bin/main.test" ./bench
(cd bench/compare && $go test -c -o "$bin/compare.test" .)

: >bench/e2e-main.txt
: >bench/e2e-compare.txt

# bench MODULE REGEXP MESSAGES runs one set of one module's benchmarks. A
# failed step is tried once more (others' fault tests restart the shared
# broker now and then); only a step that passed adds to the results.
bench() {
  local mod=$1 regexp=$2 n=$3 dir=bench try
  [ "$mod" = compare ] && dir=bench/compare
  for try in 1 2; do
    echo "run.sh: round $round/$count: $mod $regexp, $n messages ($((SECONDS - start))s so far)" >&2
    # Run in the package's directory, as go test does.
    if (cd "$dir" && "$bin/$mod.test" -test.run='^$' -test.bench="$regexp$lib" -test.benchmem \
      -test.benchtime="${n}x" -test.count=1) >"$bin/step.txt" 2>&1; then
      cat "$bin/step.txt" >>"bench/e2e-$mod.txt"
      return
    fi
    grep -E -A3 '^(--- FAIL|panic)' "$bin/step.txt" | head -20 >&2 || true
    [ "$try" = 1 ] && { echo "run.sh: failed; waiting for the broker and trying once more" >&2; wait_broker; }
  done
  echo "run.sh: $mod benchmarks failed twice" >&2
  exit 1
}

# wait_broker waits up to a minute for the AMQP port to answer again.
wait_broker() {
  local i
  sleep 5
  for i in $(seq 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && return
    sleep 1
  done
}

# ceiling measures what the sleeping handlers allow with no broker and no
# library (BenchmarkSleepCeiling), once a round, into bench/e2e-ceiling.txt.
ceiling() {
  (cd bench && "$bin/main.test" -test.run='^$' -test.bench='^BenchmarkSleepCeiling$' -test.benchtime=20000x \
    -test.count=1) | grep '^Benchmark' >>bench/e2e-ceiling.txt
}

: >bench/e2e-ceiling.txt
start=$SECONDS
for round in $(seq "$count"); do
  bench main '^BenchmarkTarget' "$target_n"
  bench main '^Benchmark(Consume|Publish)$' "$sweep_n"
  bench compare '^Benchmark(Consume|Publish)$' "$sweep_n"
  ceiling
done
echo "run.sh: done in $((SECONDS - start))s: bench/e2e-main.txt bench/e2e-compare.txt bench/e2e-ceiling.txt" >&2
