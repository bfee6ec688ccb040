#!/usr/bin/env bash
# PostgreSQL cluster for the billing apps on 127.0.0.1:$BILLING_PG_PORT.  Usage: postgres.sh install|up|down|status
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROOT=$BILLING_INFRA_DIR/pg
DATA=$ROOT/data
SOCK=$ROOT/run
LOG=$ROOT/postgres.log

install_pkg() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install postgresql; }

# An existing cluster keeps its own major version; otherwise the newest installed one.
# (/usr/local/bin/pg_ctl may exist but is not necessarily the matching version.)
bin_dir() {
  local ver
  if [ -f "$DATA/PG_VERSION" ]; then ver=$(cat "$DATA/PG_VERSION"); else ver=$(ls /usr/lib/postgresql | sort -V | tail -n1); fi
  echo "/usr/lib/postgresql/$ver/bin"
}

as_pg() { runuser -u postgres -- "$@"; }
running() { [ -f "$DATA/PG_VERSION" ] && as_pg "$(bin_dir)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

up() {
  install_pkg
  local bin; bin=$(bin_dir)
  install -d -o postgres -g postgres -m 755 "$ROOT" "$SOCK"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    # Explicit UTF8: the default locale of a bare root shell is POSIX, which would give SQL_ASCII.
    as_pg "$bin/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 --no-instructions >"$ROOT/initdb.log"
  fi
  # Rewritten on every up so that port/dir overrides take effect on the next start.
  cat >"$DATA/billing.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $BILLING_PG_PORT
unix_socket_directories = '$SOCK'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
  chown postgres:postgres "$DATA/billing.conf"
  grep -qx "include 'billing.conf'" "$DATA/postgresql.conf" || echo "include 'billing.conf'" >>"$DATA/postgresql.conf"

  if ! running; then
    as_pg "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null || { tail -n 30 "$LOG" >&2; exit 1; }
  fi
  pg_isready -q -h 127.0.0.1 -p "$BILLING_PG_PORT" -t 30 || { echo "postgres not ready on port $BILLING_PG_PORT" >&2; tail -n 30 "$LOG" >&2; exit 1; }

  as_pg psql -h "$SOCK" -p "$BILLING_PG_PORT" -d postgres -XqAt -v ON_ERROR_STOP=1 <<'SQL'
select 'create role billing login superuser password ''billing''' where not exists (select from pg_roles where rolname = 'billing') \gexec
select 'create database billing owner billing' where not exists (select from pg_database where datname = 'billing') \gexec
SQL
  echo "postgres: up on 127.0.0.1:$BILLING_PG_PORT (data $DATA)"
}

down() {
  if running; then as_pg "$(bin_dir)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; fi
  echo "postgres: down"
}

status() {
  if running && pg_isready -q -h 127.0.0.1 -p "$BILLING_PG_PORT"; then echo "postgres: running on 127.0.0.1:$BILLING_PG_PORT"
  else echo "postgres: not running"; return 3; fi
}

case "${1:-}" in
  install) install_pkg ;;
  up|down|status) "$1" ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
