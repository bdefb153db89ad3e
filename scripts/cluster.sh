#!/usr/bin/env bash
# cluster.sh runs a three-node RabbitMQ cluster on this machine, beside the
# default broker (rabbit@localhost on 5672, which it never touches):
#
#   node          AMQP             distribution
#   c1@localhost  127.0.0.1:5681   25681
#   c2@localhost  127.0.0.1:5682   25682
#   c3@localhost  127.0.0.1:5683   25683
#
# Every node has the consistent-hash exchange plugin enabled and the
# management plugin off. Nodes 2 and 3 join node 1.
#
#   scripts/cluster.sh up      start (returns at once when already up)
#   scripts/cluster.sh down    stop every node and wipe its data
#   scripts/cluster.sh status  exit 0 when all three nodes run clustered
#
# The nodes run as the rabbitmq user with HOME=/var/lib/rabbitmq (the
# package's rabbitmq-server and rabbitmqctl wrappers switch to that user), so
# they share the default broker's Erlang cookie, /var/lib/rabbitmq/.erlang.cookie,
# and so does every rabbitmqctl -n cN@localhost. Needs root.
#
# WARREN_CLUSTER_DIR (default /var/tmp/warren-cluster) holds each node's
# config, plugins file, data and logs. CLUSTER_WAIT_SECONDS (default 120)
# bounds every wait.
set -euo pipefail

base=${WARREN_CLUSTER_DIR:-/var/tmp/warren-cluster}
wait_seconds=${CLUSTER_WAIT_SECONDS:-120}
nodes=(c1 c2 c3)
amqp_port() { echo $((5680 + ${1#c})); }
dist_port() { echo $((25680 + ${1#c})); }
node_name() { echo "$1@localhost"; }

say() { echo "cluster.sh: $*" >&2; }
die() { say "$*"; exit 1; }

ctl() { # ctl NODE args...: rabbitmqctl against one cluster node, bounded
  local n=$1
  shift
  timeout 30 rabbitmqctl -q -n "$(node_name "$n")" "$@"
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$(amqp_port "$1")") 2>/dev/null; }

node_running() { # the node's Erlang VM answers and its app runs
  ctl "$1" await_startup --timeout 5 >/dev/null 2>&1
}

running_count() { # how many nodes node 1 lists as running members
  ctl c1 cluster_status --formatter json 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("running_nodes", [])))' 2>/dev/null ||
    echo 0
}

clustered() {
  for n in "${nodes[@]}"; do answers "$n" || return 1; done
  [ "$(running_count)" = 3 ]
}

preflight() {
  [ "$(id -u)" = 0 ] || die "needs root (the nodes run as the rabbitmq user through the package's wrappers)"
  command -v rabbitmq-server >/dev/null 2>&1 || die "rabbitmq-server is not installed; run scripts/broker.sh first"
  id rabbitmq >/dev/null 2>&1 || die "there is no rabbitmq user; install the rabbitmq-server package"
  [ -f /var/lib/rabbitmq/.erlang.cookie ] || die "no Erlang cookie at /var/lib/rabbitmq/.erlang.cookie; start the default broker once (scripts/broker.sh)"
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to read cluster_status"
}

write_node_files() {
  local n=$1 dir=$base/$1
  mkdir -p "$dir/mnesia" "$dir/log"
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.local = 127.0.0.1:$(amqp_port "$n")
loopback_users.guest = true
log.file.level = warning
EOF
  echo '[rabbitmq_consistent_hash_exchange].' >"$dir/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$base"
}

start_node() {
  local n=$1 dir=$base/$1
  if node_running "$n"; then return 0; fi
  if ctl "$n" status >/dev/null 2>&1; then
    # The VM runs but its app was stopped (a fault test that died before its cleanup).
    say "starting the app of $(node_name "$n")"
    ctl "$n" start_app >/dev/null
    return 0
  fi
  write_node_files "$n"
  say "starting $(node_name "$n") on 127.0.0.1:$(amqp_port "$n")"
  # The node's VM outlives this script: it must not inherit a lock its
  # caller holds (flock /tmp/warren-cluster.lock make ... passes the
  # locked descriptor down), or the lock is held until the node stops.
  (
    close_inherited_fds
    RABBITMQ_NODENAME=$(node_name "$n") \
      RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf \
      RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
      RABBITMQ_MNESIA_BASE=$dir/mnesia \
      RABBITMQ_LOG_BASE=$dir/log \
      RABBITMQ_DIST_PORT=$(dist_port "$n") \
      RABBITMQ_NODE_PORT=$(amqp_port "$n") \
      exec rabbitmq-server -detached
  ) >"$dir/start.out" 2>&1 ||
    die "rabbitmq-server for $(node_name "$n") failed: $(cat "$dir/start.out")"
}

close_inherited_fds() { # close every descriptor above stderr (bash's own 255 aside)
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    case $fd in 0 | 1 | 2 | 255 | *[!0-9]*) continue ;; esac
    eval "exec $fd>&-" 2>/dev/null || true
  done
}

wait_node() {
  local n=$1
  for _ in $(seq 1 "$wait_seconds"); do
    if node_running "$n" && answers "$n"; then return 0; fi
    sleep 1
  done
  die "$(node_name "$n") did not start within ${wait_seconds}s; see $base/$n/log/ and $base/$n/start.out"
}

member_of_c1() { # node N is in node 1's cluster (running or not)
  ctl c1 cluster_status --formatter json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if sys.argv[1] in d.get("disk_nodes", [])+d.get("ram_nodes", []) else 1)' "$(node_name "$1")"
}

join() {
  local n=$1
  member_of_c1 "$n" && return 0
  say "joining $(node_name "$n") to c1@localhost"
  local out=$base/$n/join.out
  # start_app logs harmless errors about connection-tracking tables while the
  # node joins; keep them in join.out and show them only when a step fails.
  ctl "$n" stop_app >"$out" 2>&1 || die "stop_app of $(node_name "$n") failed: $(cat "$out")"
  ctl "$n" join_cluster c1@localhost >>"$out" 2>&1 || die "join_cluster of $(node_name "$n") failed: $(cat "$out")"
  ctl "$n" start_app >>"$out" 2>&1 || die "start_app of $(node_name "$n") failed: $(cat "$out")"
}

up() {
  if clustered; then
    say "up: 3 running nodes on 127.0.0.1:5681-5683, $(memory_mb) MB resident"
    return 0
  fi
  preflight
  local started=$SECONDS
  for n in "${nodes[@]}"; do start_node "$n"; done
  for n in "${nodes[@]}"; do wait_node "$n"; done
  join c2
  join c3
  for _ in $(seq 1 "$wait_seconds"); do
    if clustered; then
      say "up in $((SECONDS - started)) s: 3 running nodes on 127.0.0.1:5681-5683, $(memory_mb) MB resident"
      return 0
    fi
    sleep 1
  done
  die "the cluster did not list 3 running nodes within ${wait_seconds}s (running: $(running_count)); see $base/*/log/"
}

node_pids() { # the Erlang VM pids of the nodes, from the pid files they write
  local n f
  for n in "${nodes[@]}"; do
    f=$base/$n/mnesia/$(node_name "$n").pid
    [ -s "$f" ] && [ -d "/proc/$(cat "$f")" ] && echo "$(cat "$f")"
  done
  return 0
}

memory_mb() { # resident memory of the three nodes' Erlang VMs
  local total=0 pid kb
  for pid in $(node_pids); do
    kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}

down() {
  preflight
  for n in c3 c2 c1; do
    if ctl "$n" status >/dev/null 2>&1; then
      say "stopping $(node_name "$n")"
      ctl "$n" stop >/dev/null 2>&1 || say "stop of $(node_name "$n") failed"
    fi
  done
  # A node whose CLI cannot reach it but whose VM lives on: end it by its pid.
  local pid
  for pid in $(node_pids); do
    say "ending leftover node VM $pid"
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$base"
  say "down: nodes stopped, $base removed"
}

case ${1:-up} in
up) up ;;
down) down ;;
status)
  if clustered; then say "3 running nodes"; else say "not up (running: $(running_count))"; exit 1; fi
  ;;
*) die "usage: $0 up|down|status" ;;
esac
