#!/usr/bin/env bash
# The fault check (issue 11, item 4): the platform as separate processes (infra/cluster.sh) on PostgreSQL, RabbitMQ
# and Redis of its own (other ports and folder than the shared ones, which it never touches), a simulated fleet
# sending throughout (`billing-agent demo`: each agent buffers what is refused and sends it again in order), and, in
# turn, each 10 s before a minute ends so that the minute's usage falls due during the fault:
#   SIGKILL a fleet silo (its grains come back on the other), SIGKILL a ledger process, SIGKILL the invoicing
#   process (15 s later), restart RabbitMQ, restart PostgreSQL. A killed process is started again later (a supervisor's
#   part): the silo after 40 s, the others after 25 s.
# Exits 0 only when the demo prints MATCH (every acknowledged heartbeat billed exactly once: the agents' own
# computation equals the lease, usage and invoice figures) and each recurring job ran once per schedule across
# processes; prints how long each fault held back usage (a minute's windows stored after its end, against a
# minute without a fault).
#   infra/faults.sh  (BILLING_BUILD_CONFIGURATION=Debug BILLING_FAULTS_BUILD=0: use what `dotnet test` built)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export BILLING_INFRA_DIR=${BILLING_FAULTS_DIR:-/var/tmp/billing-faults}
export BILLING_PG_PORT=${BILLING_FAULTS_PG_PORT:-58432} BILLING_RABBIT_PORT=${BILLING_FAULTS_RABBIT_PORT:-58672}
export BILLING_RABBIT_DIST_PORT=$((BILLING_RABBIT_PORT + 10)) BILLING_EPMD_PORT=$((BILLING_RABBIT_PORT + 20))
export BILLING_RABBIT_MGMT_PORT=$((BILLING_RABBIT_PORT + 1)) BILLING_REDIS_PORT=${BILLING_FAULTS_REDIS_PORT:-59379}
export BILLING_API_PORT=${BILLING_FAULTS_API_PORT:-5480} BILLING_CLUSTER_BUILD=0
. infra/env.sh
conf=${BILLING_BUILD_CONFIGURATION:-Release}
export BILLING_BUILD_CONFIGURATION=$conf
log=$BILLING_INFRA_DIR/faults
mkdir -p "$log"
psql_q() { PGPASSWORD=billing psql -h 127.0.0.1 -p "$BILLING_PG_PORT" -U billing -d billing -XqAt -F ' ' -c "$1"; }

demo_pid=""
cleanup() {
  [ -z "$demo_pid" ] || kill "$demo_pid" 2>/dev/null || true
  bash "$root/infra/cluster.sh" down >/dev/null 2>&1 || true
  bash "$root/infra/down.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

echo "== fault check: own PostgreSQL :$BILLING_PG_PORT, RabbitMQ :$BILLING_RABBIT_PORT, Redis :$BILLING_REDIS_PORT under $BILLING_INFRA_DIR"
bash infra/down.sh >/dev/null 2>&1 || true
rm -rf "$BILLING_INFRA_DIR/pg" "$BILLING_INFRA_DIR/rabbit" "$BILLING_INFRA_DIR/cluster"
bash infra/up.sh >/dev/null
if [ "${BILLING_FAULTS_BUILD:-1}" = 1 ]; then
  for p in Host/Billing.Host Gateway/Billing.Gateway NodeAgent/Billing.NodeAgent; do
    dotnet build "services/$p.csproj" -c "$conf" -nologo -v quiet >/dev/null
  done
fi
bash infra/cluster.sh up

echo "== simulated fleet (log: $log/demo.log)"
dotnet "services/NodeAgent/bin/$conf/net10.0/billing-agent.dll" demo --api "$(bash infra/cluster.sh url)" \
  --ops-key "$(bash infra/cluster.sh ops-key)" --nodes "${DEMO_NODES:-12}" --tenants "${DEMO_TENANTS:-2}" \
  --duration "${DEMO_DURATION:-270s}" --interval "${DEMO_INTERVAL:-5s}" --model-requests 0 >"$log/demo.log" 2>&1 &
demo_pid=$!
until grep -qs "leases running" "$log/demo.log"; do
  kill -0 "$demo_pid" 2>/dev/null || { tail -40 "$log/demo.log"; exit 1; }
  sleep 1
done

# Faults: "name|minute its usage was due (epoch)|start (epoch)|end (epoch)".
faults=()
# Sleeps until 10 s before the next minute boundary at least 10 s away; prints that boundary.
before_next_minute() {
  local now boundary; now=$(date +%s); boundary=$(((now + 69) / 60 * 60))
  sleep $((boundary - 10 - now)); echo "$boundary"
}
restart_later() { (sleep "$2"; bash infra/cluster.sh start "$1" >>"$log/restarts.log" 2>&1) & }

b=$(before_next_minute); t=$(date +%s); bash infra/cluster.sh kill fleet-1; restart_later fleet-1 40
faults+=("SIGKILL fleet silo fleet-1|$b|$t|$((t + 40))")
b=$(before_next_minute); t=$(date +%s); bash infra/cluster.sh kill ledger-1; restart_later ledger-1 25
faults+=("SIGKILL ledger process ledger-1|$b|$t|$((t + 25))")
sleep 15; t=$(date +%s); bash infra/cluster.sh kill invoicing-1; restart_later invoicing-1 25
faults+=("SIGKILL invoicing process invoicing-1|-|$t|$((t + 25))")
b=$(before_next_minute); t=$(date +%s); bash infra/rabbitmq.sh down >/dev/null; bash infra/rabbitmq.sh up >/dev/null
faults+=("restart RabbitMQ|$b|$t|$(date +%s)")
b=$(before_next_minute); t=$(date +%s); bash infra/postgres.sh down >/dev/null; bash infra/postgres.sh up >/dev/null
faults+=("restart PostgreSQL|$b|$t|$(date +%s)")

echo "== faults done; waiting for the demo's check"
status=0
wait "$demo_pid" || status=$?
demo_pid=""
grep -E "^(Agents|MATCH|MISMATCH)|MATCH *$|MISMATCH" "$log/demo.log" | tail -30 || true
[ $status = 0 ] || { echo "FAULT CHECK FAILED: the demo did not match (exit $status); log: $log/demo.log" >&2; tail -60 "$log/demo.log" >&2; }

# Each recurring job is enqueued once per schedule, whichever of the two fleet silos enqueued and ran it.
twice=$(psql_q "select invocationdata::json->>'Arguments', date_trunc('minute', createdat), count(*) from billing_hangfire.job
  where invocationdata::json->>'Arguments' similar to '%(fleet-maintenance|fleet-spot-prices)%' group by 1, 2 having count(*) > 1")
ran_by=$(psql_q "select count(distinct data::json->>'ServerId') from billing_hangfire.state s join billing_hangfire.job j on j.id = s.jobid
  where s.name = 'Processing' and j.invocationdata::json->>'Arguments' like '%fleet-maintenance%'")
if [ -n "$twice" ]; then echo "FAULT CHECK FAILED: a recurring job was enqueued twice in one minute: $twice" >&2; status=1; fi
echo "fleet-maintenance ran once a minute, on $ran_by fleet processes in turn"

# How late a minute's usage was stored: its windows' store times less the minute's end, median and last. A window
# a grain could not close or publish during one fault may wait for the next one's end too.
delay() {
  psql_q "select coalesce(round(percentile_cont(0.5) within group (order by d)::numeric, 1) || ' / ' || round(max(d)::numeric, 1) || ' s', '-')
    from (select extract(epoch from timestamp - to_timestamp($1)) d from billing.mt_events
      where type = 'usage_recorded' and (data->>'windowStart')::timestamptz = to_timestamp($1 - 60)) w"
}
faulty=" $(for f in "${faults[@]}"; do echo -n "$(cut -d'|' -f2 <<<"$f") "; done)"
normal=()
for m in $(psql_q "select distinct extract(epoch from (data->>'windowStart')::timestamptz)::bigint + 60 from billing.mt_events
    where type = 'usage_recorded' order by 1"); do
  [[ $faulty == *" $m "* ]] || normal+=("$(date -u -d "@$m" +%H:%M) $(delay "$m")")
done
echo
echo "Fault check: how long each fault held back usage (the usage of the minute ending during it: stored this long after that end, median / last window)"
printf '  %-38s %-9s %-9s %s\n' fault at "down for" "usage stored after"
for f in "${faults[@]}"; do
  IFS='|' read -r name due start end <<<"$f"
  printf '  %-38s %-9s %-9s %s\n' "$name" "$(date -u -d "@$start" +%T)" "$((end - start)) s" \
    "$([ "$due" = - ] && echo "- (not on usage's path)" || delay "$due")"
done
echo "  minutes without a fault (end: stored after): $(IFS=,; echo "${normal[*]}" | sed 's/,/, /g')"
echo "Fault check: $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
