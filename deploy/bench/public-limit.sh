#!/usr/bin/env bash
# Public responses against the bare net/http limit (issue 15, item 4).
#
# Seeds a SQLite database with a page of 1,000 components, 90 days of
# rollups and 5 incidents (TestSeedBenchPage), starts `pharos serve
# --roles web` on loopback and beside it bareserve (deploy/bench/bareserve),
# a bare net/http server sending the very bytes and headers Pharos sent for
# the same paths, fetched once at its start. Then wrk runs against both,
# one at a time, for summary.json and the HTML page, identity and gzip, and
# prints req/s and the ratio Pharos / bare (goal: >= 0.80). ROUNDS > 1
# repeats the whole table, alternating, to show the noise of a shared
# machine, and prints the medians. Pharos logs to a file, as it would to a
# journal.
#
#   deploy/bench/public-limit.sh
#   DURATION=20s ROUNDS=3 deploy/bench/public-limit.sh
#
# Before and after in the same run: build an older pharos and seed its own
# database with its own migrations (its TestSeedBenchPage must read
# PHAROS_BENCH_COMPONENTS; copy today's into that checkout if not), then
#
#   BEFORE_BIN=/tmp/old/pharos BEFORE_DB=sqlite:///tmp/old/bench.db deploy/bench/public-limit.sh
#
# adds its req/s and ratio to bare as two more columns.
#
# Needs: go, wrk (apt-get install -y wrk), curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${DURATION:-10s}"     # per wrk run
CONNS="${CONNS:-32}"            # wrk connections
THREADS="${THREADS:-2}"         # wrk threads
ROUNDS="${ROUNDS:-1}"
COMPONENTS="${COMPONENTS:-1000}"
DAYS="${DAYS:-90}"
PORT="${PORT:-18089}"           # pharos
BARE_PORT="${BARE_PORT:-18090}" # bareserve
BEFORE_PORT="${BEFORE_PORT:-18091}"
BEFORE_BIN="${BEFORE_BIN:-}"
BEFORE_DB="${BEFORE_DB:-}"

for tool in go wrk curl; do
  command -v "$tool" >/dev/null || { echo "public-limit.sh: $tool is not installed" >&2; exit 3; }
done

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

wait_up() { # url pid log
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "exited:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "not up after 30s: $1" >&2; cat "$3" >&2; exit 1
}

echo "== build"
timeout 300 go build -o "$work/pharos" .
timeout 300 go build -o "$work/bareserve" ./deploy/bench/bareserve

echo "== seed: $COMPONENTS components, $DAYS days of rollups, 5 incidents"
PHAROS_BENCH_SEED="sqlite://$work/bench.db" PHAROS_BENCH_COMPONENTS="$COMPONENTS" PHAROS_BENCH_DAYS="$DAYS" \
  timeout 300 go test -count=1 -run '^TestSeedBenchPage$' ./app/web/public/ >/dev/null

echo "== start pharos serve --roles web on 127.0.0.1:$PORT"
PHAROS_DATABASE_URL="sqlite://$work/bench.db" PHAROS_LISTEN="127.0.0.1:$PORT" \
  PHAROS_SECRET_KEY="bench-only-secret-key-0123456789abcdef" \
  timeout 1800 "$work/pharos" serve --roles web >"$work/pharos.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$PORT/healthz" "${pids[-1]}" "$work/pharos.log"

if [ -n "$BEFORE_BIN" ]; then
  echo "== start the baseline $BEFORE_BIN on 127.0.0.1:$BEFORE_PORT"
  PHAROS_DATABASE_URL="$BEFORE_DB" PHAROS_LISTEN="127.0.0.1:$BEFORE_PORT" \
    PHAROS_SECRET_KEY="bench-only-secret-key-0123456789abcdef" \
    timeout 1800 "$BEFORE_BIN" serve --roles web >"$work/before.log" 2>&1 &
  pids+=($!)
  wait_up "http://127.0.0.1:$BEFORE_PORT/healthz" "${pids[-1]}" "$work/before.log"
fi

paths=(/p/bench/api/v2/summary.json /p/bench/)
# The first load of a large page may overrun its budget on a busy machine
# (503): warm every server's cache until each path answers.
warm() { # base
  for p in "${paths[@]}"; do
    for i in $(seq 1 30); do
      curl -fsS -o /dev/null "$1$p" 2>/dev/null && break
      [ "$i" = 30 ] && { echo "$1$p does not answer 200" >&2; exit 1; }
      sleep 1
    done
  done
}
warm "http://127.0.0.1:$PORT"
[ -n "$BEFORE_BIN" ] && warm "http://127.0.0.1:$BEFORE_PORT"
echo "== start bareserve on 127.0.0.1:$BARE_PORT with Pharos's bytes"
timeout 1800 "$work/bareserve" -from "http://127.0.0.1:$PORT" -listen "127.0.0.1:$BARE_PORT" "${paths[@]}" \
  >"$work/bare.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$BARE_PORT${paths[0]}" "${pids[-1]}" "$work/bare.log"
sed 's/^/    /' "$work/bare.log"

rps() { # url encoding
  local out
  out="$(timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" ${2:+-H "Accept-Encoding: $2"} "$1")"
  if echo "$out" | grep -q 'Non-2xx'; then echo "wrk $1: non-2xx responses" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}

echo "== wrk -t$THREADS -c$CONNS -d$DURATION, one server at a time; load before: $(uptime | sed 's/.*load average: //')"
header="$(printf '%-6s %-22s %-9s %10s %10s %6s' round path encoding pharos bare ratio)"
[ -n "$BEFORE_BIN" ] && header="$header$(printf ' %10s %6s' before ratio)"
echo "$header" | tee "$work/results"
for round in $(seq 1 "$ROUNDS"); do
  for p in "${paths[@]}"; do
    for enc in "" gzip; do
      ph="$(rps "http://127.0.0.1:$PORT$p" "$enc")"
      bare="$(rps "http://127.0.0.1:$BARE_PORT$p" "$enc")"
      name="${p#/p/bench}"
      line="$(printf '%-6s %-22s %-9s %10s %10s %6s' "$round" "${name:-/}" "${enc:-identity}" "$ph" "$bare" \
        "$(awk -v a="$ph" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')")"
      if [ -n "$BEFORE_BIN" ]; then
        before="$(rps "http://127.0.0.1:$BEFORE_PORT$p" "$enc")"
        line="$line$(printf ' %10s %6s' "$before" "$(awk -v a="$before" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')")"
      fi
      echo "$line" | tee -a "$work/results"
    done
  done
done
if [ "$ROUNDS" -gt 1 ]; then
  echo "== medians over $ROUNDS rounds"
  awk 'NR > 1 { k = $2 " " $3; ph[k] = ph[k] " " $4; bare[k] = bare[k] " " $5; r[k] = r[k] " " $6
                if (NF > 6) { bf[k] = bf[k] " " $7; br[k] = br[k] " " $8 }; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
       function median(list,   a, m, i, j, t) {
         m = split(list, a, " ")
         for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
         return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
       }
       END { for (i = 1; i <= n; i++) { k = order[i]
               line = sprintf("%-32s pharos %9.0f  bare %9.0f  ratio %.2f", k, median(ph[k]), median(bare[k]), median(r[k]))
               if (k in bf) line = line sprintf("   before %9.0f  ratio %.2f", median(bf[k]), median(br[k]))
               print line } }' "$work/results"
fi
echo "== load after: $(uptime | sed 's/.*load average: //')"
echo "pharos log: $(wc -l <"$work/pharos.log") lines"
