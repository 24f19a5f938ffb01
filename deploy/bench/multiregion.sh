#!/usr/bin/env bash
# Local multi-region run (DESIGN §2–§4): `pharos serve` plus three
# `pharos probe` workers (regions fra, iad, sin) on the local Redis and
# PostgreSQL, probing three HTTPS targets on 127.0.0.2–.4 (a throw-away CA,
# deploy/bench/targets). It applies a generated configuration (one page, two
# components, three checks in every region, 10s interval), lets it run,
# prints what happened (check states, the public summary.json, results per
# region), then stops one target to show its check going down after the
# confirm rounds with an automatic incident and starts it again to show the
# incident resolve, and finally stops everything it started (about a
# minute and a half in all).
#
# It uses its own PostgreSQL database (created and dropped) and Redis
# database BENCH_REDIS_DB (default 14, flushed at start and end); it never
# touches Redis databases 0 or 15 or any other PostgreSQL database.
#
#   BENCH_PG_URL      admin connection (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
#   BENCH_REDIS_DB    Redis database number (default 14)
#   BENCH_WAIT        seconds to let the pipeline run before the report (default 35)
#   BENCH_KILL        1 (default) to stop a target and watch its check go down, 0 to skip
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/bench/lib.sh

PG_ADMIN_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
REDIS_DB="${BENCH_REDIS_DB:-14}"
WAIT="${BENCH_WAIT:-35}"
KILL="${BENCH_KILL:-1}"
REGIONS=(fra iad sin)
TARGET_IPS=(127.0.0.2 127.0.0.3 127.0.0.4)

log() { printf '\n== %s\n' "$*"; }
die() { echo "multiregion: $*" >&2; exit 1; }

case "$REDIS_DB" in
  0 | 15) die "BENCH_REDIS_DB=$REDIS_DB is reserved (0: default, 15: tests)" ;;
  *[!0-9]* | '') die "BENCH_REDIS_DB=$REDIS_DB: want a database number" ;;
esac
pg_isready -d "$PG_ADMIN_URL" -q || die "PostgreSQL is not answering at $PG_ADMIN_URL"
redis-cli -n "$REDIS_DB" ping >/dev/null || die "Redis is not answering on 127.0.0.1:6379"

work="$(mktemp -d /tmp/pharos-multiregion.XXXXXX)"
db="pharos_multiregion_$$"
db_created=0
pids=()   # every process started, each the leader of its own process group
ok=0

cleanup() {
  set +e
  stop_all
  if [ "$db_created" = 1 ]; then
    psql -q -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  fi
  redis-cli -n "$REDIS_DB" FLUSHDB >/dev/null
  end_work multiregion
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { psql -X -q -d "$DB_URL" "$@"; }

log "build"
go build -o "$work/pharos" .
go build -o "$work/targets" ./deploy/bench/targets
pharos="$work/pharos"

log "fresh database $db, Redis database $REDIS_DB"
psql -q -d "$PG_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
db_created=1
redis-cli -n "$REDIS_DB" FLUSHDB >/dev/null
export PHAROS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
export PHAROS_REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
export PHAROS_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PHAROS_ALLOW_PRIVATE_TARGETS=true
# A bench measures capacity: lift the per-organisation quotas (issue 11).
export PHAROS_MAX_CHECKS=0 PHAROS_MAX_COMPONENTS=0 PHAROS_MAX_PAGES=0 PHAROS_MIN_INTERVAL=0
DB_URL="$PHAROS_DATABASE_URL"

log "targets on ${TARGET_IPS[*]}"
"$work/targets" -ca-dir "$work" -init
declare -A target_addr target_pid probe_addr
for ip in "${TARGET_IPS[@]}"; do
  start "target-$ip" "$work/targets" -ca-dir "$work" -listen "$ip:0" -addr-file "$work/target-$ip.addr"
  target_pid[$ip]="${pids[-1]}"
done
for ip in "${TARGET_IPS[@]}"; do
  wait_for 10 "target $ip" test -s "$work/target-$ip.addr"
  target_addr[$ip]="$(cat "$work/target-$ip.addr")"
  echo "  https://${target_addr[$ip]}/"
done

log "user and configuration"
echo "bench-password-$$" | "$pharos" user create --email bench@example.test --org Bench --org-slug bench >/dev/null
cat >"$work/pharos.yaml" <<EOF
page:
  slug: bench
  title: Bench status
regions: [fra, iad, sin]
components:
  - name: Images
    checks:
      - name: edge-1
        url: https://${target_addr[127.0.0.2]}/logo
        interval: 10s
        timeout: 5s
        tls: {ca: ca.pem}
        expect: {status: [200], json: {"\$.status": "ok"}}
      - name: edge-2
        url: https://${target_addr[127.0.0.3]}/logo
        interval: 10s
        timeout: 5s
        tls: {ca: ca.pem}
        expect: {status: [200], json: {"\$.status": "ok"}}
  - name: API
    checks:
      - name: api
        url: https://${target_addr[127.0.0.4]}/health
        interval: 10s
        timeout: 5s
        quorum: 2
        confirm: 2
        tls: {ca: ca.pem}
        expect: {status: [200], json: {"\$.status": "ok"}}
EOF
"$pharos" apply -f "$work/pharos.yaml"

log "pharos serve + pharos probe × ${#REGIONS[@]}"
PHAROS_LISTEN=127.0.0.1:0 start serve "$pharos" serve
for r in "${REGIONS[@]}"; do
  PHAROS_LISTEN=127.0.0.1:0 start "probe-$r" "$pharos" probe --region "$r"
done
wait_for 30 "pharos serve to announce its URL" grep -qo 'http://127.0.0.1:[0-9]*/' "$work/serve.log"
base="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -n1)"
echo "  web: $base/p/bench/"
for r in "${REGIONS[@]}"; do
  wait_for 30 "probe $r to listen" grep -q 'probe worker listening' "$work/probe-$r.log"
  addr="$(grep -o 'addr=[0-9.:]*' "$work/probe-$r.log" | head -n1 | cut -d= -f2)"
  curl -fsS "http://$addr/healthz" >/dev/null || die "probe $r: /healthz failed"
  echo "  probe $r: http://$addr/healthz ok"
  probe_addr[$r]="$addr"
done

log "running for ${WAIT}s"
sleep "$WAIT"

report() {
  echo "-- checks"
  sql -c "SELECT c.name, c.state, co.name AS component, co.status AS component_status
          FROM checks c JOIN components co ON co.id = c.component_id ORDER BY c.name"
  echo "-- results per region (and per state)"
  sql -c "SELECT region, count(*) AS results, count(*) FILTER (WHERE state = 'up') AS up,
                 count(*) FILTER (WHERE state = 'down') AS down,
                 count(DISTINCT check_id) AS checks, max(checked_at) AS newest
          FROM check_results GROUP BY region ORDER BY region"
  echo "-- region health (rows appear once a region is judged unhealthy)"
  sql -c "SELECT region, healthy, changed_at FROM region_health ORDER BY region"
  echo "-- incidents"
  sql -c "SELECT i.id, i.name, i.status, i.impact, i.started_at, i.resolved_at FROM incidents i ORDER BY i.id"
  echo "-- outbox events"
  sql -c "SELECT kind, count(*) FROM outbox GROUP BY kind ORDER BY kind"
  echo "-- $base/p/bench/api/v2/summary.json"
  curl -fsS "$base/p/bench/api/v2/summary.json" |
    jq -c '{status, components: [.components[] | {name, status}], incidents: [.incidents[] | {name, status, impact}]}'
}
report
echo "-- jobs run per worker (from each worker's /metrics)"
for r in "${REGIONS[@]}"; do
  printf '  %s: %s\n' "$r" "$(curl -fsS "http://${probe_addr[$r]}/metrics" | awk '/^pharos_worker_jobs_run_total/ {print $2}')"
done

if [ "$KILL" = 1 ]; then
  victim=127.0.0.4
  log "stopping the target $victim (check 'api'): down after 2 confirm rounds"
  kill -TERM -- "-${target_pid[$victim]}"
  stopped=$SECONDS
  down() { [ "$(sql -Atc "SELECT state FROM checks WHERE name = 'api'")" = down ]; }
  wait_for 45 "check 'api' to go down" down
  echo "  'api' is down $((SECONDS - stopped))s after its target stopped"
  opened() { [ "$(sql -Atc "SELECT count(*) FROM outbox WHERE kind = 'incident.opened'")" -ge 1 ]; }
  wait_for 10 "the incident.opened event" opened
  report

  log "starting the target $victim again: the incident resolves"
  start "target-$victim-again" "$work/targets" -ca-dir "$work" -listen "${target_addr[$victim]}"
  restarted=$SECONDS
  resolved() { [ "$(sql -Atc "SELECT count(*) FROM incidents WHERE status = 'resolved'")" -ge 1 ]; }
  wait_for 30 "the incident to resolve" resolved
  echo "  resolved $((SECONDS - restarted))s after the target came back"
  sql -c "SELECT c.name, c.state, i.name AS incident, i.status, i.started_at, i.resolved_at
          FROM incidents i JOIN checks c ON c.id = i.check_id ORDER BY i.id"
  sql -c "SELECT kind, count(*) FROM outbox GROUP BY kind ORDER BY kind"
fi

ok=1
log "done; stopping everything"
