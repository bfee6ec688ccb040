#!/usr/bin/env bash
# Redis (no persistence) on 127.0.0.1:$BILLING_REDIS_PORT, for the multi-silo clustering test.
# Usage: redis.sh install|up|down|status
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROOT=$BILLING_INFRA_DIR/redis

install_pkg() { command -v redis-server >/dev/null || apt_install redis-server; }
answering() { [ "$(redis-cli -h 127.0.0.1 -p "$BILLING_REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

up() {
  install_pkg
  install -d -m 755 "$ROOT"
  if ! answering; then
    redis-server --bind 127.0.0.1 --port "$BILLING_REDIS_PORT" --daemonize yes --dir "$ROOT" \
      --pidfile "$ROOT/redis.pid" --logfile "$ROOT/redis.log" --save "" --appendonly no
    for _ in $(seq 100); do answering && break; sleep 0.1; done
    answering || { echo "redis not answering on port $BILLING_REDIS_PORT" >&2; tail -n 30 "$ROOT/redis.log" >&2; exit 1; }
  fi
  echo "redis: up on 127.0.0.1:$BILLING_REDIS_PORT"
}

down() {
  if answering; then redis-cli -h 127.0.0.1 -p "$BILLING_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  echo "redis: down"
}

status() {
  if answering; then echo "redis: running on 127.0.0.1:$BILLING_REDIS_PORT"; else echo "redis: not running"; return 3; fi
}

case "${1:-}" in
  install) install_pkg ;;
  up|down|status) "$1" ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
