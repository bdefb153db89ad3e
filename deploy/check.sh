#!/usr/bin/env bash
# check.sh checks deploy/ with the real tools (make deploy-check):
#   1. promtool check rules / test rules on deploy/prometheus;
#   2. the dashboard JSON parses and every panel has a query;
#   3. a real Prometheus server scrapes examples/observability (-serve) on
#      loopback, and every dashboard query is evaluated through
#      /api/v1/query: it must run without error and return data, except the
#      queries listed in PARSE_ONLY (metrics the example cannot produce).
# Installs Debian's prometheus package if promtool or prometheus is missing.
# Needs the broker (scripts/broker.sh). Every wait is bounded; every process
# and temp dir it starts is removed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dashboard=$here/grafana/warren.json
GO=${GO:-go}

# Queries over metrics examples/observability cannot produce: the example
# never loses its connection, so warren_reconnects_total has no series.
# These are checked to parse and run only.
PARSE_ONLY=(warren_reconnects_total)

log() { printf 'deploy-check: %s\n' "$*"; }
fail() { printf 'deploy-check: FAIL: %s\n' "$*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------
need=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || need+=(prometheus)
command -v jq >/dev/null || need+=(jq)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	log "installing Debian's ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	# The package starts a service on :9090; this check runs its own server.
	if command -v systemctl >/dev/null; then systemctl stop prometheus >/dev/null 2>&1 || true; fi
fi
command -v jq >/dev/null || fail "jq is needed (apt-get install jq)"
command -v curl >/dev/null || fail "curl is needed"

# --- rules -----------------------------------------------------------------
promtool check rules "$here/prometheus/warren-alerts.yml"
(cd "$here/prometheus" && promtool test rules warren-alerts_test.yml)

# --- dashboard -------------------------------------------------------------
jq -e . "$dashboard" >/dev/null || fail "$dashboard is not JSON"
missing=$(jq -r '.panels[] | select(.type != "row") | select(([.targets[]?.expr // empty | select(length > 0)] | length) == 0) | .title' "$dashboard")
[ -z "$missing" ] || fail "panels without a query: $missing"
jq -e '.templating.list[] | select(.name == "datasource" and .type == "datasource")' "$dashboard" >/dev/null ||
	fail "the dashboard has no datasource template variable"
log "dashboard: $(jq '[.panels[] | select(.type != "row")] | length' "$dashboard") panels, each with a query"

# --- live scrape -----------------------------------------------------------
tmp=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port asks the kernel for a free loopback port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# wait_for runs "$@" every 0.5 s until it succeeds, at most $1 seconds.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 2; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.5
	done
	return 1
}

metrics_port=$(free_port)
prom_port=$(free_port)

log "building examples/observability"
(cd "$root" && $GO build -o "$tmp/observability" ./examples/observability)
"$tmp/observability" -serve -addr "127.0.0.1:$metrics_port" -spans=false -prefix "deploy-check-$$" \
	>"$tmp/example.out" 2>"$tmp/example.err" &
pids+=($!)
# The demo settles its messages, then serves until SIGTERM (cleanup above),
# after which it deletes the queues and exchange it declared.
wait_for 60 grep -q 'serving until interrupted' "$tmp/example.err" ||
	{ tail -20 "$tmp/example.err" >&2; fail "examples/observability did not finish its demo within 60 s"; }

cat >"$tmp/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: warren-example
    static_configs:
      - targets: ['127.0.0.1:$metrics_port']
CONF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
api=http://127.0.0.1:$prom_port/api/v1/query

# query EXPR prints the API's JSON answer.
query() { curl -sS --max-time 10 --get --data-urlencode "query=$1" "$api"; }
# scraped succeeds once Prometheus holds at least 3 scrapes of the example
# (rate() needs two samples in its window).
scraped() { query 'count_over_time(up{job="warren-example"}[1m]) >= 3 and up{job="warren-example"} == 1' | jq -e '.data.result | length == 1'; }
wait_for 60 scraped || { tail -20 "$tmp/prometheus.log" >&2; fail "Prometheus did not scrape the example within 60 s"; }
log "Prometheus on 127.0.0.1:$prom_port scraped the example on 127.0.0.1:$metrics_port"

# Evaluate every dashboard query with the dashboard's variables filled in as
# Grafana would: $queue as All (.*), $__rate_interval as 1m.
failures=0
while IFS= read -r expr; do
	q=${expr//\$__rate_interval/1m}
	q=${q//\$queue/.*}
	if ! answer=$(query "$q" 2>&1) || ! jq -e . >/dev/null 2>&1 <<<"$answer"; then
		log "ERROR  $expr: $answer"
		failures=$((failures + 1))
		continue
	fi
	if [ "$(jq -r .status <<<"$answer")" != success ]; then
		log "ERROR  $expr: $(jq -r .error <<<"$answer")"
		failures=$((failures + 1))
		continue
	fi
	n=$(jq '.data.result | length' <<<"$answer")
	parse_only=false
	for m in "${PARSE_ONLY[@]}"; do [[ $expr == *"$m"* ]] && parse_only=true; done
	if [ "$n" -gt 0 ]; then
		log "ok     $n series  $expr"
	elif $parse_only; then
		log "ok     runs (no data expected from the example)  $expr"
	else
		log "NODATA $expr"
		failures=$((failures + 1))
	fi
done < <(jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$dashboard")

[ "$failures" -eq 0 ] || fail "$failures dashboard queries failed"
log "all dashboard queries return data"
