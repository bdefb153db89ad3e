#!/usr/bin/env bash
# broker.sh makes sure a RabbitMQ broker answers on 127.0.0.1:5672: it starts
# an installed rabbitmq-server, installs one with apt-get if there is none,
# and waits until the AMQP port answers. It exits non-zero with a clear
# message when it cannot.
set -euo pipefail

host=127.0.0.1
port=5672
wait_seconds=${BROKER_WAIT_SECONDS:-120}

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

ready() {
  answers || return 1
  # The port opens before the broker finishes booting; when we can, ask it.
  if command -v rabbitmq-diagnostics >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    timeout 20 rabbitmq-diagnostics -q check_running >/dev/null 2>&1 || return 1
  fi
  return 0
}

# restore_watermark undoes a memory-alarm fault test that died before its
# cleanup (the test sets the watermark to 0.0001; RabbitMQ's default is 0.4).
restore_watermark() {
  if [ "$(id -u)" = 0 ] && command -v rabbitmqctl >/dev/null 2>&1 &&
    timeout 20 rabbitmqctl -q status 2>/dev/null | grep -q 'watermark setting: 0.0001 of'; then
    echo "broker.sh: restoring the memory watermark a fault test left at 0.0001" >&2
    rabbitmqctl -q set_vm_memory_high_watermark 0.4 >/dev/null
  fi
}

# enable_hash_exchange turns on the consistent-hash exchange plugin that
# partitioned consumers (adapters/rabbitmq/partition) declare their hash
# exchange with. Enabling is idempotent and broker-wide; it runs under the
# exclusive broker lock, since it touches every client's broker.
enable_hash_exchange() {
  if [ "$(id -u)" = 0 ] && command -v rabbitmq-plugins >/dev/null 2>&1 &&
    ! timeout 20 rabbitmq-plugins -q list -e 2>/dev/null | grep -q 'rabbitmq_consistent_hash_exchange'; then
    echo "broker.sh: enabling rabbitmq_consistent_hash_exchange" >&2
    if ! flock -x -w 120 /tmp/warren-broker.lock rabbitmq-plugins -q enable rabbitmq_consistent_hash_exchange >/dev/null; then
      echo "broker.sh: could not enable rabbitmq_consistent_hash_exchange; partitioned consumers will fail to declare" >&2
    fi
  fi
}

if ready; then
  restore_watermark
  enable_hash_exchange
  exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "broker.sh: RabbitMQ is not running on $host:$port and cannot be installed here (needs root and apt-get)." >&2
    echo "Start one yourself, e.g. 'apt-get install -y rabbitmq-server && rabbitmq-server -detached', or set AMQP_URL." >&2
    exit 1
  fi
  echo "broker.sh: installing rabbitmq-server with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
fi

if ! answers; then
  echo "broker.sh: starting rabbitmq-server" >&2
  # If the node runs but its app was stopped (a fault test that died before
  # its cleanup), start_app brings it back; otherwise start the server.
  if [ "$(id -u)" = 0 ] && timeout 20 rabbitmqctl -q status >/dev/null 2>&1; then
    rabbitmqctl -q start_app || true
  else
    rabbitmq-server -detached || true
  fi
fi

for _ in $(seq 1 "$wait_seconds"); do
  if ready; then
    echo "broker.sh: RabbitMQ answers on $host:$port" >&2
    restore_watermark
    enable_hash_exchange
    exit 0
  fi
  sleep 1
done
echo "broker.sh: RabbitMQ did not answer on $host:$port within ${wait_seconds}s; see /var/log/rabbitmq/ for why." >&2
exit 1
