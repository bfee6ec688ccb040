# shellcheck shell=bash
# Source me: `. infra/env.sh`. Every BILLING_* value keeps an existing env var if set.
# (No `set -euo pipefail` here: it would leak into an interactive shell that sources this.)
export BILLING_INFRA_DIR="${BILLING_INFRA_DIR:-/var/tmp/billing-infra}"
export BILLING_PG_PORT="${BILLING_PG_PORT:-55432}"
export BILLING_RABBIT_PORT="${BILLING_RABBIT_PORT:-55672}"
export BILLING_RABBIT_DIST_PORT="${BILLING_RABBIT_DIST_PORT:-55682}"
export BILLING_EPMD_PORT="${BILLING_EPMD_PORT:-55692}"
export BILLING_RABBIT_MGMT_PORT="${BILLING_RABBIT_MGMT_PORT:-55673}"
export BILLING_REDIS_PORT="${BILLING_REDIS_PORT:-56379}"

export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$BILLING_PG_PORT;Database=billing;Username=billing;Password=billing"
export ConnectionStrings__RabbitMq="amqp://guest:guest@127.0.0.1:$BILLING_RABBIT_PORT/"
export ConnectionStrings__Redis="127.0.0.1:$BILLING_REDIS_PORT"
