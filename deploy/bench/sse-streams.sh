#!/usr/bin/env bash
# How many event streams one `pharos serve` holds, and in how much memory
# (issue 11 item 4).
#
# Seeds a SQLite database with the bench page (TestSeedBenchPage), starts
# `pharos serve --roles web` on loopback with the stream caps at STREAMS
# (per client too: every stream comes from 127.0.0.1), then TestBenchSSEHold
# opens STREAMS streams and EXTRA more: it reports the streams held, the
# 503s beyond the cap, the server's RSS and Go heap per stream, and the
# page and /login answering meanwhile. Everything it starts is stopped on
# exit, and every step is bounded in time.
#
#   deploy/bench/sse-streams.sh                  # 10,000 streams + 500 beyond
#   STREAMS=2000 EXTRA=100 deploy/bench/sse-streams.sh
#   STREAMS= deploy/bench/sse-streams.sh         # the caps sized from the file limit
#
# Needs: go, curl; Linux (/proc) for the memory figures.
set -euo pipefail
cd "$(dirname "$0")/../.."

STREAMS="${STREAMS-10000}"
EXTRA="${EXTRA:-500}"
PORT="${PORT:-18090}"

for tool in go curl; do
  command -v "$tool" >/dev/null || { echo "sse-streams.sh: $tool is not installed" >&2; exit 3; }
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
timeout 300 go test -c -o "$work/public.test" ./app/web/public/

echo "== seed the bench page"
PHAROS_BENCH_SEED="sqlite://$work/bench.db" timeout 120 "$work/public.test" -test.count=1 -test.run '^TestSeedBenchPage$' >/dev/null

echo "== start pharos serve --roles web on 127.0.0.1:$PORT (caps: ${STREAMS:-from the file limit})"
ulimit -n "$(ulimit -Hn)"
PHAROS_DATABASE_URL="sqlite://$work/bench.db" PHAROS_LISTEN="127.0.0.1:$PORT" \
  PHAROS_SECRET_KEY="bench-only-secret-key-0123456789abcdef" \
  PHAROS_SSE_MAX_STREAMS="$STREAMS" PHAROS_SSE_MAX_PER_CLIENT="$STREAMS" \
  "$work/pharos" serve --roles web >"$work/pharos.log" 2>&1 & # not under timeout: $! must be pharos (its RSS); the trap stops it
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "pharos exited:" >&2; cat "$work/pharos.log" >&2; exit 1; }
  sleep 0.1
done
grep -E 'open-file limit|event streams capped' "$work/pharos.log" | sed 's/^/    /'
curl -fsS "http://127.0.0.1:$PORT/p/bench/" >/dev/null # warm the page

echo "== open ${STREAMS:-capped} streams, then $EXTRA more"
PHAROS_BENCH_BASE="http://127.0.0.1:$PORT" PHAROS_BENCH_PID="$pid" \
  PHAROS_BENCH_HOLD="${STREAMS:-12000}" PHAROS_BENCH_EXTRA="$EXTRA" \
  timeout 300 "$work/public.test" -test.count=1 -test.run '^TestBenchSSEHold$' -test.v \
  | grep -E 'RESULT|FAIL|Error' | sed 's/^ *bench_streams_test.go:[0-9]*: //'
