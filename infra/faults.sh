#!/usr/bin/env bash
# The fault check (issue 11, item 4): the platform as separate processes (infra/cluster.sh) on PostgreSQL, RabbitMQ
# and Redis of its own (other ports and folder than the shared ones, which it never touches), a simulated fleet
# sending throughout (`billing-agent demo`: each agent buffers what is refused and sends it again in order), and, in
# turn, each 10 s before a minute ends so that the minute's usage falls due during the fault:
#   SIGKILL a fleet silo (its grains come back on the other), SIGKILL a ledger process, SIGKILL the invoicing
#   process (15 s later), restart PostgreSQL, restart RabbitMQ. A killed process is started again later (a supervisor's
#   part): the silo after 40 s, the others after 25 s.
# Exits 0 only when the demo prints MATCH (every acknowledged heartbeat billed exactly once: the agents' own
# computation equals the lease, usage and invoice figures) and each recurring job ran once per schedule across
# processes; prints how long each fault held back usage (the windows of each minute that ended during it: how long
# after that end they were stored, against minutes without a fault).
#   infra/faults.sh  (BILLING_BUILD_CONFIGURATION=Debug BILLING_FAULTS_BUILD=0: use what `dotnet test` built)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Ports below Linux's ephemeral range (32768-60999), so that no outgoing connection holds one when a service restarts.
export BILLING_INFRA_DIR=${BILLING_FAULTS_DIR:-/var/tmp/billing-faults}
export BILLING_PG_PORT=${BILLING_FAULTS_PG_PORT:-25432} BILLING_RABBIT_PORT=${BILLING_FAULTS_RABBIT_PORT:-25672}
export BILLING_RABBIT_DIST_PORT=$((BILLING_RABBIT_PORT + 10)) BILLING_EPMD_PORT=$((BILLING_RABBIT_PORT + 20))
export BILLING_RABBIT_MGMT_PORT=$((BILLING_RABBIT_PORT + 1)) BILLING_REDIS_PORT=${BILLING_FAULTS_REDIS_PORT:-26379}
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
: >"$log/demo.log"  # here, not in the background job: the wait below must not read the last run's log
dotnet "services/NodeAgent/bin/$conf/net10.0/billing-agent.dll" demo --api "$(bash infra/cluster.sh url)" \
  --ops-key "$(bash infra/cluster.sh ops-key)" --nodes "${DEMO_NODES:-12}" --tenants "${DEMO_TENANTS:-2}" \
  --duration "${DEMO_DURATION:-300s}" --interval "${DEMO_INTERVAL:-5s}" --model-requests 0 >>"$log/demo.log" 2>&1 &
demo_pid=$!
until grep -qs "leases running" "$log/demo.log"; do
  kill -0 "$demo_pid" 2>/dev/null || { tail -40 "$log/demo.log"; exit 1; }
  sleep 1
done

# Faults: "name|start (epoch)|end (epoch)|on usage's path (1/0)".
faults=()
# Sets b to the first minute boundary at least 10 s away and after the last fault's, and sleeps until 10 s before it.
b=0
before_next_minute() {
  local now last=$b; now=$(date +%s)
  b=$(((now + 69) / 60 * 60))
  [ "$b" -gt "$last" ] || b=$((last + 60))
  [ $((b - 10 - now)) -le 0 ] || sleep $((b - 10 - now))
}
# As a supervisor would: a process that exits while starting (the database restarting under it) is started again.
restart_later() {
  (sleep "$2"; for _ in 1 2 3 4 5; do bash infra/cluster.sh start "$1" >>"$log/restarts.log" 2>&1 && break; sleep 2; done) &
}

before_next_minute; t=$(date +%s); bash infra/cluster.sh kill fleet-1; restart_later fleet-1 40
faults+=("SIGKILL fleet silo fleet-1|$t|$((t + 40))|1")
before_next_minute; t=$(date +%s); bash infra/cluster.sh kill ledger-1; restart_later ledger-1 25
faults+=("SIGKILL ledger process ledger-1|$t|$((t + 25))|1")
sleep 15; t=$(date +%s); bash infra/cluster.sh kill invoicing-1; restart_later invoicing-1 25
faults+=("SIGKILL invoicing process invoicing-1|$t|$((t + 25))|0")
before_next_minute; t=$(date +%s); bash infra/postgres.sh down >/dev/null; bash infra/postgres.sh up >/dev/null
faults+=("restart PostgreSQL|$t|$(date +%s)|1")
# Last: its restart takes 20 to 90 s here.
before_next_minute; t=$(date +%s); bash infra/rabbitmq.sh down >/dev/null; bash infra/rabbitmq.sh up >/dev/null
faults+=("restart RabbitMQ|$t|$(date +%s)|1")

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
# The minutes that ended while a fault lasted, and at least the first to end after it began (a fault starts 10 s
# before a minute ends; one shorter than that still holds back that minute's windows as they close).
minutes_in() { local m first=$((($1 + 59) / 60 * 60)); for ((m = first; m <= $2 || m == first; m += 60)); do echo "$m"; done; }
faulty=" $(for f in "${faults[@]}"; do IFS='|' read -r _ start end _ <<<"$f"; minutes_in "$start" "$end"; done | tr '\n' ' ')"
# Minutes that end after the demo ended its leases are cut short (their windows close at the end): left out.
released=$(psql_q "select coalesce(extract(epoch from max((data->>'endedAt')::timestamptz))::bigint, 0) from billing.mt_events
  where type = 'lease_ended'")
normal=()
for m in $(psql_q "select distinct extract(epoch from (data->>'windowStart')::timestamptz)::bigint + 60 from billing.mt_events
    where type = 'usage_recorded' and extract(epoch from (data->>'windowStart')::timestamptz)::bigint + 60 <= $released order by 1"); do
  [[ $faulty == *" $m "* ]] || normal+=("$(date -u -d "@$m" +%H:%M) $(delay "$m")")
done
echo
echo "Fault check: how long each fault held back usage (each minute that ended during it: its usage stored this long after its end, median / last window)"
printf '  %-38s %-9s %-9s %s\n' fault at "down for" "usage stored after"
for f in "${faults[@]}"; do
  IFS='|' read -r name start end on_path <<<"$f"
  held="- (not on usage's path)"
  [ "$on_path" = 0 ] || held=$(for m in $(minutes_in "$start" "$end"); do echo "$(date -u -d "@$m" +%H:%M) $(delay "$m")"; done | paste -sd ';' | sed 's/;/; /g')
  printf '  %-38s %-9s %-9s %s\n' "$name" "$(date -u -d "@$start" +%T)" "$((end - start)) s" "$held"
done
echo "  minutes without a fault: $(IFS=,; echo "${normal[*]}" | sed 's/,/, /g')"
echo "Fault check: $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
