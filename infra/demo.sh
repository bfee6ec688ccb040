#!/usr/bin/env bash
# The main job: the whole platform with a simulated fleet, on local services it starts itself.
#   infra/demo.sh [--keep-running] [--cluster] [other options for `billing-agent demo`, e.g. --model-requests 0;
#   not the ones set below from DEMO_*: an option given twice is refused]
# --cluster (or BILLING_DEMO_CLUSTER=1): against the platform as separate processes behind the gateway
# (infra/cluster.sh: two fleet silos, two ledger processes, one invoicing process) instead of one host.
# Settings (environment): BILLING_API_PORT (5080), BILLING_OPS_KEY (random), DEMO_NODES (20), DEMO_GPUS (8),
# DEMO_TENANTS (3), DEMO_DURATION (90s), DEMO_INTERVAL (15s).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
keep=0
cluster=${BILLING_DEMO_CLUSTER:-0}
args=()
for a in "$@"; do
  case $a in --keep-running) keep=1 ;; --cluster) cluster=1 ;; *) args+=("$a") ;; esac
done

. infra/env.sh
port=${BILLING_API_PORT:-5080}
api="http://127.0.0.1:$port"
ops_key=${BILLING_OPS_KEY:-ops_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
log_dir="$BILLING_INFRA_DIR/logs"
mkdir -p "$log_dir"

# Stop at the end only what this run started.
started=()
infra=(postgres rabbitmq)
[ $cluster = 0 ] || infra+=(redis)
for s in "${infra[@]}"; do
  bash "infra/$s.sh" status >/dev/null 2>&1 || started+=("$s")
done
bash infra/up.sh "${infra[@]}"

echo "== building"
dotnet build services/Host/Billing.Host.csproj -c Release -nologo -v quiet
dotnet build services/NodeAgent/Billing.NodeAgent.csproj -c Release -nologo -v quiet
[ $cluster = 0 ] || dotnet build services/Gateway/Billing.Gateway.csproj -c Release -nologo -v quiet

host_pid=""
cleanup() {
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null || true
  [ $cluster = 0 ] || bash "$root/infra/cluster.sh" down >/dev/null 2>&1 || true
  [ ${#started[@]} -gt 0 ] && bash "$root/infra/down.sh" "${started[@]}" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

if [ $cluster = 1 ]; then
  echo "== starting the platform as separate processes behind the gateway on $api (logs: infra/cluster.sh's run directory)"
  BILLING_OPS_KEY=$ops_key BILLING_CLUSTER_BUILD=0 bash infra/cluster.sh up
else
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
fi

echo "== simulated fleet"
status=0
dotnet services/NodeAgent/bin/Release/net10.0/billing-agent.dll demo --api "$api" --ops-key "$ops_key" \
  --nodes "${DEMO_NODES:-20}" --gpus "${DEMO_GPUS:-8}" --tenants "${DEMO_TENANTS:-3}" \
  --duration "${DEMO_DURATION:-90s}" --interval "${DEMO_INTERVAL:-15s}" ${args[@]+"${args[@]}"} || status=$?

if [ $keep = 1 ]; then
  echo
  echo "The platform keeps running until you press Ctrl+C."
  echo "  base URL: $api"
  [ $cluster = 1 ] || echo "  console:  $api/console (sign in with the ops key, or a tenant's or finance key)"
  echo "  ops key:  $ops_key"
  if [ $cluster = 1 ]; then sleep infinity; else wait "$host_pid" || true; fi
fi
exit $status
