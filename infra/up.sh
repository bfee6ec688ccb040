#!/usr/bin/env bash
# Start the local services: infra/up.sh [postgres] [rabbitmq] [redis]  (default: all)
set -euo pipefail
cd "$(dirname "$0")"
. ./env.sh

services=("$@")
[ ${#services[@]} -gt 0 ] || services=(postgres rabbitmq redis)
for s in "${services[@]}"; do
  case $s in postgres|rabbitmq|redis) ;; *) echo "unknown service: $s" >&2; exit 2 ;; esac
done

# apt/dpkg hold a lock: install one after another, then start in parallel.
for s in "${services[@]}"; do bash "./$s.sh" install; done

pids=()
for s in "${services[@]}"; do
  ( bash "./$s.sh" up 2>&1 | sed -u "s/^/[$s] /" ) &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ $failed = 0 ] || { echo "some services failed to start" >&2; exit 1; }

cat <<INFO

ConnectionStrings__Postgres="$ConnectionStrings__Postgres"
ConnectionStrings__RabbitMq="$ConnectionStrings__RabbitMq"
ConnectionStrings__Redis="$ConnectionStrings__Redis"
(RabbitMQ management: http://127.0.0.1:$BILLING_RABBIT_MGMT_PORT/ guest/guest; to use: . infra/env.sh)
INFO
