#!/usr/bin/env bash
# Soak run of the embedded deployment (issue 15): `pharos run` (SQLite,
# in-process bus) probing CHECKS checks at INTERVAL against one local HTTPS
# target (127.0.0.2, a throw-away CA: deploy/bench/targets), for DURATION
# seconds. Every SAMPLE seconds it records, for the pharos process:
#
#   rss_mb      VmRSS from /proc/PID/status
#   heap_mb     go_memstats_heap_inuse_bytes from /metrics
#   jobs        pharos_jobs_stream_length (job + run-now streams, all regions)
#   results     pharos_results_stream_length (all result shards)
#   db_mb       the SQLite database with its -wal and -shm files
#   checks      jobs probed in the interval (pharos_worker_jobs_run_total)
#   cpu_ms/chk  utime+stime from /proc/PID/stat over the interval ÷ checks
#   agg_us/res  the aggregator's time per result stored: its batches'
#               seconds (pharos_aggregator_batch_seconds) over their results
#               in the interval. Wall time, so it counts waits as well, but
#               of the aggregator alone: it moves less between runs than the
#               process's CPU per check, so a change to the aggregator shows
#               in a short run
#   redis_mb    with REDIS_DB: MEMORY USAGE summed over the database's keys
#               (the streams, the latest-state cache, the locks)
#
# Before pharos starts and again after the run it measures the client-side
# floor against the same target (deploy/bench/handshakefloor: dial + TLS
# handshake + chain verification, FLOOR_N times, default 2000) and reports
# CPU per check as a multiple of the two's mean. It also measures the floor
# after every sample (FLOOR_EVERY_N handshakes, default 300), while pharos
# idles between rounds, and reports the ratio to their median: the
# machine's speed can move by 15 % within a run.
#
# Both are back-to-back loops, the CPU never idle. Pharos's checks arrive
# a few every scheduler tick and the CPU idles in between, and on a virtual
# machine every wake-up from idle costs (cold caches, the kernel's wake-up
# path, the Go scheduler's spinning): the same bare handshakes cost about
# 1.4 to 1.6x as much CPU each when paced so at a 100 ms tick. So it also
# measures the paced floor (PACED_N handshakes, default 600, at CHECKS per
# INTERVAL, those due starting together every tick as the scheduler's tick
# starts checks: the tick pharos's scheduler takes for that plan, 1 s for
# 1,000 checks at 30 s, or TICK, e.g. TICK=100ms for a build from before
# the tick followed the plan) before and after the run, and reports the
# ratio to their mean.
#
# and prints them as a table, then one summary line: RSS and heap at the
# first and last sample and their growth per minute after WARMUP seconds,
# database growth per minute, and CPU ms per check over the whole run after
# the first sample (the first interval includes start-up and apply caches).
#
# Everything lives in a temporary directory (removed on success, kept with
# the logs on failure); every process it starts is stopped at the end.
#
#   CHECKS    number of checks (default 1000), one component each
#   INTERVAL  check interval (default 30s)
#   DURATION  seconds of `pharos run` (default 3600; QUICK=1: 600)
#   SAMPLE    seconds between samples (default 60; QUICK=1: 30)
#   WARMUP    seconds excluded from the growth figures (default 60)
#   SETTLE    seconds after which RSS must stay within 5 MB of its range's
#             middle (default 600): the summary prints the range after it
#   PHAROS    an already-built pharos binary to run instead of building one
#             (to compare commits: build each, then pass it here)
#   PROFILE   a file: a CPU profile of pharos from WARMUP to 5 s before the
#             last sample is written there (with PG, of pharos serve, and
#             of pharos probe into FILE.probe), and a heap profile at its
#             end into FILE.heap (PHAROS_DEBUG_LISTEN on a loopback port;
#             read it with `go tool pprof -top PHAROS_BINARY PROFILE`)
#   REDIS_DB  a Redis database number on 127.0.0.1:6379: `pharos run` then
#             uses the Redis bus there (flushed at start and end; 0 and 15
#             are refused) instead of the in-process one
#   PG        with REDIS_DB, the distributed deployment instead of
#             `pharos run`: `pharos serve` on PostgreSQL (a fresh database
#             pharos_soak_PID on the server PG names, e.g.
#             postgres://postgres@127.0.0.1:5432, dropped at the end) and
#             `pharos probe` as two processes. RSS and CPU per check are
#             then the two processes' sum; db_mb is pg_database_size, and
#             pg_ms/res the CPU of PostgreSQL's backends serving that
#             database per check run (each check is one result)
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/bench/lib.sh

CHECKS="${CHECKS:-1000}"
INTERVAL="${INTERVAL:-30s}"
if [ "${QUICK:-0}" = 1 ]; then
  DURATION="${DURATION:-600}" SAMPLE="${SAMPLE:-30}"
else
  DURATION="${DURATION:-3600}" SAMPLE="${SAMPLE:-60}"
fi
WARMUP="${WARMUP:-60}"
SETTLE="${SETTLE:-600}"
TARGET_IP=127.0.0.2

die() { echo "soak: $*" >&2; exit 1; }
for v in CHECKS DURATION SAMPLE WARMUP SETTLE; do
  case "${!v}" in *[!0-9]* | '' | 0) die "$v=${!v}: want a positive number" ;; esac
done
REDIS_DB="${REDIS_DB:-}"
if [ -n "$REDIS_DB" ]; then
  case "$REDIS_DB" in
    0 | 15) die "REDIS_DB=$REDIS_DB is reserved (0: default, 15: tests)" ;;
    *[!0-9]*) die "REDIS_DB=$REDIS_DB: want a database number" ;;
  esac
  redis-cli -n "$REDIS_DB" ping >/dev/null || die "Redis is not answering on 127.0.0.1:6379"
fi
PG="${PG:-}"
pgdb=""
if [ -n "$PG" ]; then
  [ -n "$REDIS_DB" ] || die "PG needs REDIS_DB: the distributed deployment talks through Redis"
  pgdb="pharos_soak_$$"
  psql "$PG/postgres" -qAtc 'SELECT 1' >/dev/null || die "PostgreSQL is not answering at $PG"
fi

work="$(mktemp -d /tmp/pharos-soak.XXXXXX)"
pids=() # every process started, each the leader of its own process group
ok=0

cleanup() {
  set +e
  stop_all
  [ -n "$REDIS_DB" ] && redis-cli -n "$REDIS_DB" FLUSHDB >/dev/null
  [ -n "$pgdb" ] && psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null
  end_work soak
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== build"
if [ -n "${PHAROS:-}" ]; then
  cp "$PHAROS" "$work/pharos"
else
  go build -o "$work/pharos" .
fi
go build -o "$work/targets" ./deploy/bench/targets
go build -o "$work/handshakefloor" ./deploy/bench/handshakefloor
pharos="$work/pharos"

export PHAROS_DATABASE_URL="sqlite://$work/pharos.db"
if [ -n "$pgdb" ]; then
  psql "$PG/postgres" -qAtc "CREATE DATABASE $pgdb" >/dev/null
  export PHAROS_DATABASE_URL="$PG/$pgdb?sslmode=disable"
fi
export PHAROS_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PHAROS_ALLOW_PRIVATE_TARGETS=true
# A bench measures capacity: lift the per-organisation quotas (issue 11).
export PHAROS_MAX_CHECKS=0 PHAROS_MAX_COMPONENTS=0 PHAROS_MAX_PAGES=0 PHAROS_MIN_INTERVAL=0
unset PHAROS_REDIS_URL
if [ -n "$REDIS_DB" ]; then
  redis-cli -n "$REDIS_DB" FLUSHDB >/dev/null
  export PHAROS_REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
fi

echo "== target on $TARGET_IP"
"$work/targets" -ca-dir "$work" -init
start target "$work/targets" -ca-dir "$work" -listen "$TARGET_IP:0" -addr-file "$work/target.addr"
wait_for 10 "the target" test -s "$work/target.addr"
target="$(cat "$work/target.addr")"
echo "  https://$target/"

echo "== client-side floor: dial + TLS handshake + chain verification, before pharos runs"
floor="$("$work/handshakefloor" -ca "$work/ca.pem" -addr "$target" -n "${FLOOR_N:-2000}")"
echo "  $floor"
# The same handshakes arriving as pharos's scheduler sends the checks:
# CHECKS per INTERVAL, those due starting together every tick (the
# scheduler's for that plan, or TICK).
paced_floor() {
  "$work/handshakefloor" -ca "$work/ca.pem" -addr "$target" -n "${PACED_N:-600}" -rate "$CHECKS/$INTERVAL" ${TICK:+-tick "$TICK"}
}
paced="$(paced_floor)"
tick_ms="$(awk '{print $8}' <<<"$paced")"
echo "== the floor paced as the checks run: $CHECKS per $INTERVAL, started every $tick_ms ms"
echo "  $paced"

echo "== $CHECKS checks every $INTERVAL"
echo "soak-password-$$" | "$pharos" user create --email soak@example.test --org Soak --org-slug soak >/dev/null
{
  printf 'page:\n  slug: soak\n  title: Soak\nregions: [local]\ncomponents:\n'
  for i in $(seq 1 "$CHECKS"); do
    printf '  - name: c%d\n    checks:\n      - name: k%d\n        url: https://%s/c/%d\n' "$i" "$i" "$target" "$i"
    printf '        interval: %s\n        timeout: 5s\n        tls: {ca: ca.pem}\n        expect: {status: [200]}\n' "$INTERVAL"
  done
} >"$work/pharos.yaml"
"$pharos" apply -f "$work/pharos.yaml" | tail -n 1

[ -n "${PROFILE:-}" ] && export PHAROS_DEBUG_LISTEN=127.0.0.1:0
if [ -n "$pgdb" ]; then
  echo "== pharos serve + pharos probe for ${DURATION}s, a sample every ${SAMPLE}s"
  PHAROS_LISTEN=127.0.0.1:0 start run "$pharos" serve
  PHAROS_LISTEN=127.0.0.1:0 start probe "$pharos" probe --region local
  probe_pid="${pids[-1]}"
  wait_for 60 "pharos probe to listen" grep -q 'msg="probe worker listening"' "$work/probe.log"
  probe_base="http://$(grep 'msg="probe worker listening"' "$work/probe.log" | grep -o 'addr=127.0.0.1:[0-9]*' | head -n1 | sed 's/^addr=//')"
  pid="${pids[-2]}"
else
  echo "== pharos run for ${DURATION}s, a sample every ${SAMPLE}s"
  PHAROS_LISTEN=127.0.0.1:0 start run "$pharos" run
  pid="${pids[-1]}"
fi
wait_for 60 "pharos to announce its URL" grep -qo 'running at http://127.0.0.1:[0-9]*/' "$work/run.log"
base="$(grep -o 'running at http://127.0.0.1:[0-9]*' "$work/run.log" | head -n1 | sed 's/^running at //')"
if [ -n "${PROFILE:-}" ]; then
  debug="$(grep -o 'addr=http://127.0.0.1:[0-9]*/debug/pprof/' "$work/run.log" | head -n1 | sed 's/^addr=//; s,/debug/pprof/$,,')"
  secs=$((DURATION / SAMPLE * SAMPLE - WARMUP - 5)) # ends before the last sample
  [ "$secs" -gt 0 ] || die "PROFILE needs the last sample more than WARMUP + 5 seconds in"
  (sleep "$WARMUP" && curl -fsS -o "$PROFILE" "$debug/debug/pprof/profile?seconds=$secs" &&
    curl -fsS -o "$PROFILE.heap" "$debug/debug/pprof/heap") &
  profiler=$!
  if [ -n "$pgdb" ]; then
    debug="$(grep -o 'addr=http://127.0.0.1:[0-9]*/debug/pprof/' "$work/probe.log" | head -n1 | sed 's/^addr=//; s,/debug/pprof/$,,')"
    (sleep "$WARMUP" && curl -fsS -o "$PROFILE.probe" "$debug/debug/pprof/profile?seconds=$secs") &
    profiler="$profiler $!"
    echo "  and of pharos probe into $PROFILE.probe"
  fi
  echo "  CPU profile of ${secs}s after ${WARMUP}s into $PROFILE"
fi
[ "$(cat "/proc/$pid/comm")" = pharos ] || die "pid $pid is $(cat "/proc/$pid/comm"), not pharos"
hz="$(getconf CLK_TCK)"

# ticks PID: its CPU so far, user and system, in clock ticks (the fields
# after the parenthesised command name: utime and stime are the 12th and
# 13th); 0 once it is gone.
ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }

# pg_ticks: the CPU PostgreSQL's backends have spent on the soak's database
# so far. Backends come and go, so each one's last reading is kept in
# $work/pg.ticks and only what it added since is counted.
pg_ticks() {
  local state="$work/pg.ticks" p
  touch "$state"
  for p in $(psql "$PG/postgres" -qAtc "SELECT pid FROM pg_stat_activity WHERE datname = '$pgdb'"); do
    echo "$p $(ticks "$p")"
  done | awk -v state="$state" '
    BEGIN { while ((getline line < state) > 0) { split(line, f, " "); if (f[1] == "total") total = f[2]; else seen[f[1]] = f[2] } }
    { d = $2 - seen[$1]; if (d > 0) total += d; now[$1] = $2 }
    END { print "total", total + 0 > state; for (p in now) print p, now[p] > state; print total + 0 }'
}

# sample prints: seconds rss_kb heap_bytes jobs_len results_len db_bytes jobs_run cpu_ticks redis_bytes pg_ticks
# batch_seconds batch_results
sample() {
  local rss cpu db m redis=-1 pg=-1
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
  cpu="$(ticks "$pid")"
  if [ -n "$pgdb" ]; then
    rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$probe_pid/status")))
    cpu=$((cpu + $(ticks "$probe_pid")))
    db="$(psql "$PG/postgres" -qAtc "SELECT pg_database_size('$pgdb')")"
    pg="$(pg_ticks)"
  else
    db="$(cat "$work"/pharos.db* 2>/dev/null | wc -c)"
  fi
  if [ -n "$REDIS_DB" ]; then
    redis="$(redis-cli -n "$REDIS_DB" --scan | while read -r k; do
      redis-cli -n "$REDIS_DB" MEMORY USAGE "$k" SAMPLES 0
    done | awk '{s += $1} END {print s + 0}')"
  fi
  m="$(curl -fsS "$base/metrics")" || die "GET $base/metrics failed"
  if [ -n "$pgdb" ]; then
    m+=$'\n'"$(curl -fsS "$probe_base/metrics" | grep '^pharos_worker_jobs_run_total')" || die "GET $probe_base/metrics failed"
  fi
  awk -v t="$1" -v rss="$rss" -v cpu="$cpu" -v db="$db" -v redis="$redis" -v pg="$pg" '
    /^go_memstats_heap_inuse_bytes / {heap = $2}
    /^pharos_jobs_stream_length/ {jobs += $2}
    /^pharos_results_stream_length/ {results += $2}
    /^pharos_worker_jobs_run_total[{ ]/ {run += $2}
    /^pharos_aggregator_batch_seconds_sum / {aggs = $2}
    /^pharos_aggregator_batch_size_sum / {aggn = $2}
    END {printf "%d %d %.0f %d %d %d %d %d %d %d %.6f %d\n", t, rss, heap, jobs, results, db, run, cpu, redis, pg, aggs, aggn}
  ' <<<"$m"
}

started=$SECONDS
samples=()
floors=()
while :; do
  next=$(( ${#samples[@]} * SAMPLE ))
  [ "$next" -le "$DURATION" ] || break
  while [ $((SECONDS - started)) -lt "$next" ]; do sleep 0.5; done
  kill -0 "$pid" 2>/dev/null || die "pharos run exited early"
  samples+=("$(sample "$next")")
  # The floor alongside: a few hundred handshakes after each sample, while
  # pharos idles between rounds, so the ratio follows the machine's speed
  # through the run rather than at its two ends.
  floors+=("$("$work/handshakefloor" -ca "$work/ca.pem" -addr "$target" -n "${FLOOR_EVERY_N:-300}" | awk '{print $4}')")
  printf '.' >&2
done
echo >&2
for p in ${profiler:-}; do wait "$p" || die "a CPU profile failed"; done
# The tick pharos's scheduler took for the plan (none before it followed
# the plan: 100 ms), beside the one the paced floor used.
sched_tick="$(curl -fsS "$base/metrics" | awk '/^pharos_scheduler_tick_seconds / {printf "%d", $2 * 1000}')"

# The floor again, after the run (pharos, idle between rounds, takes a few
# per cent of a core meanwhile): a floor measured in a few seconds moves with
# the machine's speed of the moment (0.99 and 1.32 ms on one day), and the
# ratio is taken against the mean of the two.
floor_after="$("$work/handshakefloor" -ca "$work/ca.pem" -addr "$target" -n "${FLOOR_N:-2000}")"
paced_after="$(paced_floor)"

echo
printf '%6s %8s %8s %6s %8s %8s %7s %11s %11s %9s %10s\n' t_s rss_mb heap_mb jobs results db_mb checks cpu_ms/chk agg_us/res redis_mb pg_ms/res
printf '%s\n' "${samples[@]}" | awk -v hz="$hz" '
  {
    mb = 1048576
    if (NR == 1) { cpu = "-"; n = "-"; pg = "-"; agg = "-" } else {
      n = $7 - prun
      cpu = n > 0 ? sprintf("%.2f", ($8 - pcpu) * 1000 / hz / n) : "-"
      pg = (n > 0 && $10 >= 0) ? sprintf("%.3f", ($10 - ppg) * 1000 / hz / n) : "-"
      agg = ($12 > paggn) ? sprintf("%.0f", ($11 - paggs) * 1e6 / ($12 - paggn)) : "-"
    }
    redis = $9 < 0 ? "-" : sprintf("%.2f", $9 / mb)
    printf "%6d %8.1f %8.1f %6d %8d %8.1f %7s %11s %11s %9s %10s\n", $1, $2 / 1024, $3 / mb, $4, $5, $6 / mb, n, cpu, agg, redis, pg
    prun = $7; pcpu = $8; ppg = $10; paggs = $11; paggn = $12
  }'
printf '%s\n' "${samples[@]}" | awk -v hz="$hz" -v warm="$WARMUP" -v checks="$CHECKS" -v interval="$INTERVAL" \
  -v floor_before="$(awk '{print $4}' <<<"$floor")" -v floor_after="$(awk '{print $4}' <<<"$floor_after")" \
  -v floors="${floors[*]}" \
  -v paced_before="$(awk '{print $4}' <<<"$paced")" -v paced_after="$(awk '{print $4}' <<<"$paced_after")" \
  -v tick="$tick_ms" -v sched_tick="${sched_tick:-100 (fixed)}" -v settle="$SETTLE" '
  {
    t[NR] = $1; rss[NR] = $2 / 1024; heap[NR] = $3 / 1048576; db[NR] = $6 / 1048576; run[NR] = $7; cpu[NR] = $8; redis[NR] = $9 / 1048576; pg[NR] = $10
    aggs[NR] = $11; aggn[NR] = $12
    if (w == 0 && $1 >= warm) w = NR
    if ($1 >= settle) { r = $2 / 1024; if (!settled || r < lo) lo = r; if (!settled || r > hi) hi = r; settled++ }
  }
  END {
    if (w == 0 || w == NR) w = 1
    mins = (t[NR] - t[w]) / 60
    n = run[NR] - run[1]
    if (mins <= 0) mins = 1e9 # one sample: no growth to report
    printf "\nsummary: %d checks every %s for %ds: RSS %.1f -> %.1f MB (%+.2f MB/min after %ds), heap %.1f -> %.1f MB (%+.2f MB/min), db %.1f MB (%+.2f MB/min), %d checks run, CPU %.2f ms per check\n",
      checks, interval, t[NR], rss[1], rss[NR], (rss[NR] - rss[w]) / mins, t[w],
      heap[1], heap[NR], (heap[NR] - heap[w]) / mins,
      db[NR], (db[NR] - db[w]) / mins, n, (n > 0) ? (cpu[NR] - cpu[1]) * 1000 / hz / n : 0
    if (settled > 1)
      printf "RSS after %ds: %.1f to %.1f MB over %d samples, %.1f MB either side of %.1f (goal: within 5)\n", settle, lo, hi, settled, (hi - lo) / 2, (hi + lo) / 2
    floor = (floor_before + floor_after) / 2
    if (floor > 0 && n > 0)
      printf "floor: %.3f ms CPU per bare handshake (dial, TLS, verify; %.3f before the run, %.3f after); CPU per check is %.2fx the floor\n", floor, floor_before, floor_after, (cpu[NR] - cpu[1]) * 1000 / hz / n / floor
    paced = (paced_before + paced_after) / 2
    if (paced > 0 && n > 0)
      printf "paced floor: %.3f ms CPU per bare handshake at the rate of the checks, a tick of %d ms (the scheduler took %s ms; %.3f before, %.3f after); CPU per check is %.2fx that\n", paced, tick, sched_tick, paced_before, paced_after, (cpu[NR] - cpu[1]) * 1000 / hz / n / paced
    k = split(floors, f, " ")
    if (k > 0 && n > 0) {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && f[j - 1] > f[j]; j--) { x = f[j]; f[j] = f[j - 1]; f[j - 1] = x }
      mid = (k % 2) ? f[(k + 1) / 2] : (f[k / 2] + f[k / 2 + 1]) / 2
      printf "floor alongside: median %.3f ms of %d measurements after each sample (%.3f to %.3f); CPU per check is %.2fx that\n", mid, k, f[1], f[k], (cpu[NR] - cpu[1]) * 1000 / hz / n / mid
    }
    if (aggn[NR] > aggn[w])
      printf "aggregator: %.0f us per result stored after %ds (wall time of its batches, %d results)\n", (aggs[NR] - aggs[w]) * 1e6 / (aggn[NR] - aggn[w]), t[w], aggn[NR] - aggn[w]
    if (pg[NR] >= 0 && n > 0)
      printf "postgres: %.3f ms CPU of its backends per result (%.1f results/s)\n", (pg[NR] - pg[1]) * 1000 / hz / n, n / (t[NR] - t[1])
    if (redis[NR] >= 0)
      printf "redis: keys of the database %.2f -> %.2f MB (%+.3f MB/min after %ds)\n", redis[1], redis[NR], (redis[NR] - redis[w]) / mins, t[w]
  }'
ok=1
