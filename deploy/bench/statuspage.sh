#!/usr/bin/env bash
# Benchmark of the public status page (issue 5).
#
# Seeds a SQLite database with a page of 20 components, 90 days of rollups
# and 5 incidents (TestSeedBenchPage), starts `pharos serve --roles web` on
# loopback, runs wrk against the HTML page and summary.json, then measures
# how long one page event takes to reach 1,000 open SSE streams
# (TestBenchSSEFanout). Everything it starts is stopped on exit, and every
# step is bounded in time.
#
#   deploy/bench/statuspage.sh                 # defaults below
#   DURATION=30s CONNS=128 deploy/bench/statuspage.sh
#
# Needs: go, wrk (apt-get install -y wrk), curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${DURATION:-15s}"   # per wrk run
CONNS="${CONNS:-32}"          # wrk connections
THREADS="${THREADS:-2}"       # wrk threads
PORT="${PORT:-18089}"
SSE_CLIENTS="${SSE_CLIENTS:-1000}"
ENCODING="${ENCODING:-br, gzip}" # what browsers send; ENCODING= for identity

for tool in go wrk curl; do
  command -v "$tool" >/dev/null || { echo "statuspage.sh: $tool is not installed" >&2; exit 3; }
done

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== build"
timeout 300 go build -o "$work/pharos" .

echo "== seed: 20 components, 90 days of rollups, 5 incidents"
PHAROS_BENCH_SEED="sqlite://$work/bench.db" timeout 120 go test -count=1 -run '^TestSeedBenchPage$' ./app/web/public/ >/dev/null

echo "== start pharos serve --roles web on 127.0.0.1:$PORT"
PHAROS_DATABASE_URL="sqlite://$work/bench.db" PHAROS_LISTEN="127.0.0.1:$PORT" \
  PHAROS_SECRET_KEY="bench-only-secret-key-0123456789abcdef" \
  timeout 600 "$work/pharos" serve --roles web >"$work/pharos.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "pharos exited:" >&2; cat "$work/pharos.log" >&2; exit 1; }
  sleep 0.1
done
base="http://127.0.0.1:$PORT/p/bench"
html_bytes=$(curl -fsS "$base/" | wc -c)
echo "page: $html_bytes bytes of HTML (uncompressed)"

run_wrk() {
  local name="$1" url="$2" out
  out="$(timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency ${ENCODING:+-H "Accept-Encoding: $ENCODING"} "$url")"
  echo "$out" | sed 's/^/    /'
  local rps p99
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
  printf 'RESULT %-14s %10s req/s   p99 %s\n' "$name" "$rps" "$p99" | tee -a "$work/results"
}

echo "== wrk -t$THREADS -c$CONNS -d$DURATION (Accept-Encoding: ${ENCODING:-identity})"
curl -fsS "$base/api/v2/summary.json" >/dev/null # warm the cache
run_wrk "html page" "$base/"
run_wrk "summary.json" "$base/api/v2/summary.json"

echo "== $SSE_CLIENTS SSE streams receiving one page event"
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
PHAROS_BENCH_SSE="$SSE_CLIENTS" timeout 180 go test -count=1 -run '^TestBenchSSEFanout$' -v ./app/web/public/ \
  | grep -E 'RESULT|streams open' | sed 's/^ *public_bench_test.go:[0-9]*: //' | tee -a "$work/results"

echo "== summary"
grep RESULT "$work/results"
