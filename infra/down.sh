#!/usr/bin/env bash
# Stop the local services: infra/down.sh [postgres] [rabbitmq] [redis]  (default: all)
set -euo pipefail
cd "$(dirname "$0")"

services=("$@")
[ ${#services[@]} -gt 0 ] || services=(postgres rabbitmq redis)
pids=()
for s in "${services[@]}"; do
  case $s in postgres|rabbitmq|redis) ;; *) echo "unknown service: $s" >&2; exit 2 ;; esac
  bash "./$s.sh" down & pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
