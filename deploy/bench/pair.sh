#!/usr/bin/env bash
# Two builds of `pharos run` side by side (issue 15): A and B each probe
# CHECKS checks every INTERVAL against one local HTTPS target (127.0.0.2,
# a throw-away CA: deploy/bench/targets), at the same time, each with its
# own SQLite database and port. After WARMUP seconds it measures both over
# WINDOW seconds and prints, per build:
#
#   cpu_ms/chk  utime+stime from /proc/PID/stat over the window ÷ checks run
#               (pharos_worker_jobs_run_total)
#   gc          the collector's cycles in the window and their CPU per check:
#               the sum of GODEBUG=gctrace=1's "ms cpu" fields (the two
#               stop-the-world phases, assists, background and idle marking)
#   agg_us/res  the aggregator's batches' seconds over their results
#               (pharos_aggregator_batch_seconds, _size), wall time
#   hwm_mb      VmHWM, the process's peak RSS since it started
#
# and B's CPU per check as a fraction of A's. Run one after the other, two
# builds' CPU per check moves by 10-15 % with the machine (deploy/bench/
# soak.sh); side by side both see the same machine, and the two processes
# (about 4 % of a core each at the default load) do not compete for it.
# Alternate the order over a few runs (pair.sh A B, then pair.sh B A):
# over five runs of two builds the ratio stayed within 0.90-0.97 while
# each build's own CPU per check moved from 1.16 to 1.59 ms.
#
#   pair.sh BINARY_A BINARY_B    two pharos binaries (build each commit with
#                                `go build -o DIR/pharos .`)
#
#   CHECKS    number of checks (default 1000), one component each
#   INTERVAL  check interval (default 30s)
#   WARMUP    seconds before the window (default 60)
#   WINDOW    seconds measured (default 120)
#
# Everything lives in a temporary directory (removed on success, kept with
# the logs on failure); every process it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/bench/lib.sh

CHECKS="${CHECKS:-1000}"
INTERVAL="${INTERVAL:-30s}"
WARMUP="${WARMUP:-60}"
WINDOW="${WINDOW:-120}"
TARGET_IP=127.0.0.2

die() { echo "pair: $*" >&2; exit 1; }
[ "$#" = 2 ] || die "usage: pair.sh BINARY_A BINARY_B"
for v in CHECKS WARMUP WINDOW; do
  case "${!v}" in *[!0-9]* | '' | 0) die "$v=${!v}: want a positive number" ;; esac
done
bins=("$1" "$2")
for b in "${bins[@]}"; do [ -x "$b" ] || die "$b is not an executable"; done

work="$(mktemp -d /tmp/pharos-pair.XXXXXX)"
pids=() # every process started, each the leader of its own process group
ok=0
cleanup() {
  set +e
  stop_all
  end_work pair
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/targets" ./deploy/bench/targets
"$work/targets" -ca-dir "$work" -init
start target "$work/targets" -ca-dir "$work" -listen "$TARGET_IP:0" -addr-file "$work/target.addr"
wait_for 10 "the target" test -s "$work/target.addr"
target="$(cat "$work/target.addr")"

export PHAROS_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PHAROS_ALLOW_PRIVATE_TARGETS=true
export PHAROS_MAX_CHECKS=0 PHAROS_MAX_COMPONENTS=0 PHAROS_MAX_PAGES=0 PHAROS_MIN_INTERVAL=0
unset PHAROS_REDIS_URL PHAROS_DEBUG_LISTEN GOGC
{
  printf 'page:\n  slug: pair\n  title: Pair\nregions: [local]\ncomponents:\n'
  for i in $(seq 1 "$CHECKS"); do
    printf '  - name: c%d\n    checks:\n      - name: k%d\n        url: https://%s/c/%d\n' "$i" "$i" "$target" "$i"
    printf '        interval: %s\n        timeout: 5s\n        tls: {ca: ca.pem}\n        expect: {status: [200]}\n' "$INTERVAL"
  done
} >"$work/pharos.yaml"

names=(A B)
declare -a pid base
for i in 0 1; do
  d="$work/${names[$i]}"
  mkdir "$d"
  cp "${bins[$i]}" "$d/pharos"
  export PHAROS_DATABASE_URL="sqlite://$d/pharos.db" PHAROS_LISTEN=127.0.0.1:0
  echo "pair-password-$$" | "$d/pharos" user create --email pair@example.test --org Pair --org-slug pair >/dev/null
  "$d/pharos" apply -f "$work/pharos.yaml" >/dev/null
  GODEBUG=gctrace=1 start "${names[$i]}" "$d/pharos" run
  pid[$i]="${pids[-1]}"
done
for i in 0 1; do
  log="$work/${names[$i]}.log" # pharos's log and the collector's gctrace lines
  wait_for 60 "pharos ${names[$i]} to announce its URL" grep -qo 'running at http://127.0.0.1:[0-9]*/' "$log"
  base[$i]="$(grep -o 'running at http://127.0.0.1:[0-9]*' "$log" | head -n1 | sed 's/^running at //')"
done
echo "== $CHECKS checks every $INTERVAL on https://$target/, A and B side by side; ${WINDOW}s measured after ${WARMUP}s"
echo "  A: ${bins[0]}"
echo "  B: ${bins[1]}"
sleep "$WARMUP"

# snapshot I: CPU ticks, jobs run, batch seconds, batch results, gctrace lines
snapshot() {
  local i="$1"
  printf '%s %s %s\n' \
    "$(awk '{print $14 + $15}' "/proc/${pid[$i]}/stat")" \
    "$(curl -fsS "${base[$i]}/metrics" | awk '/^pharos_worker_jobs_run_total/ {j += $2}
      /^pharos_aggregator_batch_seconds_sum/ {s += $2} /^pharos_aggregator_batch_size_sum/ {n += $2}
      END {printf "%d %.6f %d", j, s, n}')" \
    "$(wc -l <"$work/${names[$i]}.log")"
}
declare -a before after
for i in 0 1; do before[$i]="$(snapshot "$i")"; done
sleep "$WINDOW"
for i in 0 1; do after[$i]="$(snapshot "$i")"; done

hz="$(getconf CLK_TCK)"
printf '\n%-5s %11s %7s %12s %11s %7s\n' build cpu_ms/chk cycles gc_ms/chk agg_us/res hwm_mb
declare -a cpu
for i in 0 1; do
  read -r t0 j0 s0 n0 l0 <<<"${before[$i]}"
  read -r t1 j1 s1 n1 l1 <<<"${after[$i]}"
  [ "$j1" -gt "$j0" ] || die "build ${names[$i]} ran no checks in the window"
  # gctrace: "gc N @Ts P%: a+b+c ms clock, w+x/y/z+v ms cpu, ..."
  read -r cycles gcms < <(sed -n "$((l0 + 1)),${l1}p" "$work/${names[$i]}.log" | awk '/^gc / {
      for (f = 1; f <= NF; f++) if ($f == "cpu,") { split($(f - 2), p, "+"); split(p[2], q, "/"); ms += p[1] + p[3] + q[1] + q[2] + q[3] }
      n++ } END {printf "%d %.1f\n", n, ms}')
  cpu[$i]="$(awk -v t=$((t1 - t0)) -v hz="$hz" -v j=$((j1 - j0)) 'BEGIN {printf "%.3f", t * 1000 / hz / j}')"
  awk -v b="${names[$i]}" -v c="${cpu[$i]}" -v n="$cycles" -v g="$gcms" -v j=$((j1 - j0)) \
    -v s="$(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}')" -v r=$((n1 - n0)) \
    -v hwm="$(awk '/^VmHWM/ {print $2 / 1024}' "/proc/${pid[$i]}/status")" \
    'BEGIN {printf "%-5s %11s %7d %12.3f %11.0f %7.1f\n", b, c, n, g / j, (r > 0 ? s / r * 1e6 : 0), hwm}'
done
awk -v a="${cpu[0]}" -v b="${cpu[1]}" 'BEGIN {printf "\nB/A: CPU per check %.3f\n", b / a}'
ok=1
