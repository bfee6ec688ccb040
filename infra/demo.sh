#!/usr/bin/env bash
# The main job: the whole platform with a simulated fleet, on local services it starts itself.
#   infra/demo.sh [--keep-running] [extra options for `billing-agent demo`, e.g. --nodes 20 --duration 90s]
# Settings (environment): BILLING_API_PORT (5080), BILLING_OPS_KEY (random), DEMO_NODES (20), DEMO_GPUS (8),
# DEMO_TENANTS (3), DEMO_DURATION (90s), DEMO_INTERVAL (15s).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
keep=0
args=()
for a in "$@"; do
  if [ "$a" = --keep-running ]; then keep=1; else args+=("$a"); fi
done

. infra/env.sh
port=${BILLING_API_PORT:-5080}
api="http://127.0.0.1:$port"
ops_key=${BILLING_OPS_KEY:-ops_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
log_dir="$BILLING_INFRA_DIR/logs"
mkdir -p "$log_dir"

# Stop at the end only what this run started.
started=()
for s in postgres rabbitmq; do
  bash "infra/$s.sh" status >/dev/null 2>&1 || started+=("$s")
done
bash infra/up.sh postgres rabbitmq

echo "== building"
dotnet build services/Host/Billing.Host.csproj -c Release -nologo -v quiet
dotnet build services/NodeAgent/Billing.NodeAgent.csproj -c Release -nologo -v quiet

host_pid=""
cleanup() {
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null || true
  [ ${#started[@]} -gt 0 ] && bash "$root/infra/down.sh" "${started[@]}" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

echo "== starting the platform on $api (log: $log_dir/host.log)"
(
  cd services/Host/bin/Release/net10.0
  Billing__OpsKey="$ops_key" ASPNETCORE_URLS="$api" exec dotnet billing-host.dll
) >"$log_dir/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 120); do
  curl -fsS "$api/health" >/dev/null 2>&1 && break
  kill -0 "$host_pid" 2>/dev/null || { tail -40 "$log_dir/host.log"; exit 1; }
  sleep 0.5
done
curl -fsS "$api/health" >/dev/null

echo "== simulated fleet"
status=0
dotnet services/NodeAgent/bin/Release/net10.0/billing-agent.dll demo --api "$api" --ops-key "$ops_key" \
  --nodes "${DEMO_NODES:-20}" --gpus "${DEMO_GPUS:-8}" --tenants "${DEMO_TENANTS:-3}" \
  --duration "${DEMO_DURATION:-90s}" --interval "${DEMO_INTERVAL:-15s}" ${args[@]+"${args[@]}"} || status=$?

if [ $keep = 1 ]; then
  echo
  echo "The platform keeps running until you press Ctrl+C."
  echo "  base URL: $api"
  echo "  console:  $api/console (sign in with the ops key, or a tenant's or finance key)"
  echo "  ops key:  $ops_key"
  wait "$host_pid" || true
fi
exit $status
