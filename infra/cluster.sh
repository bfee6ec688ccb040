#!/usr/bin/env bash
# The platform as separate processes on this machine, behind one base URL (the YARP gateway, services/Gateway):
#   infra/cluster.sh up|down|status|kill NAME|start NAME
# two fleet silos (one Orleans cluster through Redis membership), two ledger processes, one invoicing process and
# the gateway, each a `dotnet` process of the Release build with its own port, pid and log under the run directory.
# `kill NAME` sends SIGKILL (as a crash would); `start NAME` starts one again. `up` starts PostgreSQL, RabbitMQ and
# Redis (infra/up.sh) and builds first unless BILLING_CLUSTER_BUILD=0.
# Settings (environment): BILLING_API_PORT (5080: the gateway; the processes take the next ports), BILLING_OPS_KEY
# (random, kept in the run directory), BILLING_CLUSTER_DIR ($BILLING_INFRA_DIR/cluster), BILLING_BUILD_CONFIGURATION
# (Release), and infra/env.sh's ports.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. infra/env.sh

dir=${BILLING_CLUSTER_DIR:-$BILLING_INFRA_DIR/cluster}
base_port=${BILLING_API_PORT:-5080}
conf=${BILLING_BUILD_CONFIGURATION:-Release}
host_dll=$root/services/Host/bin/$conf/net10.0/billing-host.dll
gateway_dll=$root/services/Gateway/bin/$conf/net10.0/billing-gateway.dll

# name, services it runs, offset of its HTTP port from the gateway's (silo ports follow from it).
processes=(fleet-1:fleet:1 fleet-2:fleet:2 ledger-1:ledger:3 ledger-2:ledger:4 invoicing-1:invoicing:5 gateway:gateway:0)

entry() { local p; for p in "${processes[@]}"; do [ "${p%%:*}" = "$1" ] && { echo "$p"; return; }; done; echo "unknown process: $1" >&2; exit 2; }
port_of() { local e; e=$(entry "$1"); echo $((base_port + ${e##*:})); }
url_of() { echo "http://127.0.0.1:$(port_of "$1")"; }
pid_of() { local pid; pid=$(cat "$dir/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && echo "$pid"; }
ops_key() { cat "$dir/ops-key"; }

instances_of() { local p out=(); for p in "${processes[@]}"; do [ "$(cut -d: -f2 <<<"$p")" = "$1" ] && out+=("$(url_of "${p%%:*}")"); done; (IFS=,; echo "${out[*]}"); }

start() {
  local name=$1 e services offset
  e=$(entry "$name"); services=$(cut -d: -f2 <<<"$e"); offset=${e##*:}
  pid_of "$name" >/dev/null && { echo "$name: already running"; return; }
  local env=(ASPNETCORE_URLS="$(url_of "$name")" Billing__OpsKey="$(ops_key)")
  if [ "$services" = gateway ]; then
    env+=(Gateway__Instances__fleet="$(instances_of fleet)" Gateway__Instances__ledger="$(instances_of ledger)"
      Gateway__Instances__invoicing="$(instances_of invoicing)")
    set -- "$gateway_dll"
  else
    env+=(Billing__Services="$services" Silo__Clustering=Redis Silo__SiloPort=$((base_port + 6000 + offset))
      Silo__GatewayPort=$((base_port + 7000 + offset)))
    # The async projections run in ledger-1 alone (Solo). HotCold (a leader by advisory lock, the other taking over)
    # stalled them for good after a PostgreSQL restart in the fault check: both daemons ran the shard until the lost
    # lock was noticed, and the one that lost the race stopped the shard but kept the lock.
    [ "$name" != ledger-2 ] || env+=(Billing__ProjectionDaemon=Disabled)
    # The ledger partitions: each ledger consumes its own half first (p % 2 == instance) and stands by for the other
    # half a minute later, once the other ledger (started after invoicing-1) has registered its own: a partition
    # queue's active consumer is the first to register, and a standby takes over when it dies.
    case "$name" in ledger-1) env+=(Billing__Ledger__Instance=0) ;; ledger-2) env+=(Billing__Ledger__Instance=1) ;; esac
    [ "$services" != ledger ] || env+=(Billing__Ledger__Instances=2 Billing__Ledger__StandbyAfter=00:01:00)
    set -- "$host_dll"
  fi
  (
    cd "$(dirname "$1")"
    env "${env[@]}" setsid nohup dotnet "$1" >>"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
  )
  echo "$name: started (pid $(cat "$dir/$name.pid"), $(url_of "$name"), log $dir/$name.log)"
}

# Waits until the process answers its readiness probe (the gateway: its liveness).
wait_ready() {
  local name=$1 path=/health/ready deadline=$((SECONDS + ${2:-180}))
  [ "$name" != gateway ] || path=/health
  until curl -fsS -m 2 "$(url_of "$name")$path" >/dev/null 2>&1; do
    pid_of "$name" >/dev/null || { echo "$name exited; last lines of its log:" >&2; tail -n 30 "$dir/$name.log" >&2; return 1; }
    [ $SECONDS -lt $deadline ] || { echo "$name not ready after ${2:-180} s" >&2; tail -n 30 "$dir/$name.log" >&2; return 1; }
    sleep 0.5
  done
  echo "$name: ready"
}

stop() {
  local name=$1 pid
  pid=$(pid_of "$name") || { rm -f "$dir/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/$name.pid"
}

up() {
  bash infra/up.sh postgres rabbitmq redis >/dev/null
  if [ "${BILLING_CLUSTER_BUILD:-1}" = 1 ]; then
    echo "== building"
    dotnet build services/Host/Billing.Host.csproj -c "$conf" -nologo -v quiet
    dotnet build services/Gateway/Billing.Gateway.csproj -c "$conf" -nologo -v quiet
  fi
  install -d -m 755 "$dir"
  if [ -n "${BILLING_OPS_KEY:-}" ]; then
    echo "$BILLING_OPS_KEY" >"$dir/ops-key"
  elif [ ! -s "$dir/ops-key" ]; then
    echo "ops_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/ops-key"
  fi
  # The first process of each module alone, as compose orders them: one process at a time applies the schema
  # and records the price book. Then the second instances and the gateway together.
  local name
  for name in fleet-1 ledger-1 invoicing-1; do start "$name"; wait_ready "$name"; done
  for name in fleet-2 ledger-2 gateway; do start "$name"; done
  for name in fleet-2 ledger-2 gateway; do wait_ready "$name"; done
  echo "cluster: up on $(url_of gateway) (ops key in $dir/ops-key)"
}

down() {
  local p pids=()
  for p in "${processes[@]}"; do stop "${p%%:*}" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
  echo "cluster: down"
}

status() {
  local p name down=0
  for p in "${processes[@]}"; do
    name=${p%%:*}
    if pid_of "$name" >/dev/null; then echo "$name: running (pid $(pid_of "$name"), $(url_of "$name"))"; else echo "$name: not running"; down=1; fi
  done
  return $down
}

case "${1:-}" in
  up|down|status) "$1" ;;
  kill) pid=$(pid_of "${2:?name}") && kill -KILL "$pid" && rm -f "$dir/$2.pid" && echo "$2: killed (pid $pid)" ;;
  start) start "${2:?name}"; wait_ready "$2" ;;
  url) url_of "${2:-gateway}" ;;
  ops-key) ops_key ;;
  *) echo "usage: $0 up|down|status|kill NAME|start NAME|url [NAME]|ops-key" >&2; exit 2 ;;
esac
