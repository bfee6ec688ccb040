#!/usr/bin/env bash
# RabbitMQ node billing@localhost on 127.0.0.1 (AMQP, management, dist, epmd ports from env.sh).
# Usage: rabbitmq.sh install|up|down|status
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROOT=$BILLING_INFRA_DIR/rabbit
BIN=/usr/lib/rabbitmq/bin
# One environment for the server and every CLI call (the Erlang cookie lives in $HOME).
export HOME=$ROOT \
  RABBITMQ_NODENAME=billing@localhost \
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT=$BILLING_RABBIT_PORT \
  RABBITMQ_DIST_PORT=$BILLING_RABBIT_DIST_PORT \
  ERL_EPMD_PORT=$BILLING_EPMD_PORT \
  ERL_EPMD_ADDRESS=127.0.0.1 \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
  RABBITMQ_MNESIA_BASE=$ROOT/mnesia \
  RABBITMQ_LOG_BASE=$ROOT/log \
  RABBITMQ_CONFIG_FILE=$ROOT/rabbitmq.conf \
  RABBITMQ_ENABLED_PLUGINS_FILE=$ROOT/enabled_plugins \
  RABBITMQ_CONF_ENV_FILE=$ROOT/rabbitmq-env.conf \
  RABBITMQ_PID_FILE=$ROOT/rabbitmq.pid
LOG=$ROOT/log/$RABBITMQ_NODENAME.log

install_pkg() {
  [ -x $BIN/rabbitmq-server ] || apt_install rabbitmq-server
  [ -x $BIN/rabbitmq-server ] || { echo "rabbitmq-server install failed" >&2; exit 1; }
}

node_pid() {
  local pid; pid=$(cat "$RABBITMQ_PID_FILE" 2>/dev/null) || return 1
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = beam.smp ] && echo "$pid"
}
answering() { port_open "$BILLING_RABBIT_PORT" && port_open "$BILLING_RABBIT_MGMT_PORT"; }

fail() { echo "rabbitmq: $*" >&2; tail -n 40 "$ROOT/log/startup.log" "$LOG" >&2 2>/dev/null || true; exit 1; }

up() {
  install_pkg
  install -d -m 755 "$ROOT" "$ROOT/log"
  : >"$RABBITMQ_CONF_ENV_FILE"  # empty: keeps /etc/rabbitmq/rabbitmq-env.conf out of the way
  printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$BILLING_RABBIT_MGMT_PORT" >"$RABBITMQ_CONFIG_FILE"
  # Same content `rabbitmq-plugins enable --offline rabbitmq_management` writes, without a CLI boot.
  echo '[rabbitmq_management].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"

  local pid started=
  if ! pid=$(node_pid); then
    answering && fail "port $BILLING_RABBIT_PORT is answering but not from our node"
    rm -f "$RABBITMQ_PID_FILE"
    setsid nohup $BIN/rabbitmq-server >>"$ROOT/log/startup.log" 2>&1 </dev/null &
    started=1
  fi
  if [ -n "$started" ] || ! answering; then
    local deadline=$((SECONDS + 90))
    until answering; do
      [ $SECONDS -lt $deadline ] || fail "not answering on ports $BILLING_RABBIT_PORT/$BILLING_RABBIT_MGMT_PORT after 90 s"
      [ -z "$started" ] || kill -0 $! 2>/dev/null || fail "rabbitmq-server exited during startup"
      sleep 0.5
    done
    $BIN/rabbitmqctl -q wait --timeout 60 "$RABBITMQ_PID_FILE" >/dev/null || fail "rabbitmqctl wait failed"
  fi
  echo "rabbitmq: up on 127.0.0.1:$BILLING_RABBIT_PORT (management http://127.0.0.1:$BILLING_RABBIT_MGMT_PORT/)"
}

down() {
  local pid
  if pid=$(node_pid); then
    $BIN/rabbitmqctl -q shutdown >/dev/null || kill "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RABBITMQ_PID_FILE"
  # epmd outlives the node; stop only the one on our epmd port.
  for pid in $(listener_pids "$BILLING_EPMD_PORT"); do
    [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = epmd ] && kill "$pid"
  done
  echo "rabbitmq: down"
}

status() {
  if node_pid >/dev/null && answering; then echo "rabbitmq: running on 127.0.0.1:$BILLING_RABBIT_PORT"
  else echo "rabbitmq: not running"; return 3; fi
}

case "${1:-}" in
  install) install_pkg ;;
  up|down|status) "$1" ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
