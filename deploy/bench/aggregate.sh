#!/usr/bin/env bash
# Aggregator benchmarks against the local PostgreSQL and Redis
# (DEVELOPERS.md); set PHAROS_TEST_DATABASE_URL / PHAROS_TEST_REDIS_URL to
# use others.
#
#   deploy/bench/aggregate.sh            throughput: results stored and judged
#                                        per second through ProcessBatch, batches
#                                        cut as the consumer does (PostgreSQL and
#                                        SQLite; 1,000 and 10,000 checks × 3
#                                        regions; 1 or 8 consumers)
#   deploy/bench/aggregate.sh lag        lag: producers publish at RATE/s for
#                                        DURATION seconds through the in-process bus and
#                                        Redis while Run consumes; p50/p99 of
#                                        produced → committed. Bounded (a minute
#                                        of drain at most per run); its Redis keys
#                                        are deleted afterwards.
#   deploy/bench/aggregate.sh drain      drain: the 8 result streams (in-process
#                                        bus and Redis) are filled with ROUNDS
#                                        rounds of 10,000 checks × 3 regions
#                                        before Run starts; results/s from the
#                                        streams into PostgreSQL and SQLite until
#                                        all are committed and acknowledged, with
#                                        no producer competing for the CPU.
#                                        Bounded (LIMIT seconds per run); its
#                                        Redis keys are deleted afterwards.
#
# BENCHTIME (default 10x; 1x for lag and drain), RATE (default 20000),
# DURATION (seconds, default 10), ROUNDS (default 7: 210,000 results),
# LIMIT (seconds, default 180), BATCH (drain: Options.BatchSize), ONLY (drain: a sub-benchmark, e.g.
# postgres/redis), PROFILE (drain: a file for a CPU profile of the drain
# alone; use it with ONLY).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PHAROS_TEST_DATABASE_URL="${PHAROS_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export PHAROS_TEST_REDIS_URL="${PHAROS_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
case "${1:-throughput}" in
throughput)
	exec go test -run '^$' -bench 'Aggregate$' -benchmem -benchtime="${BENCHTIME:-10x}" -timeout 30m ./app/aggregate/
	;;
lag)
	export PHAROS_BENCH_RATE="${RATE:-20000}" PHAROS_BENCH_SECONDS="${DURATION:-10}"
	exec go test -run '^$' -bench 'AggregateLag' -benchtime=1x -timeout 30m ./app/aggregate/
	;;
drain)
	export PHAROS_BENCH_ROUNDS="${ROUNDS:-7}" PHAROS_BENCH_LIMIT="${LIMIT:-180}" PHAROS_BENCH_BATCH="${BATCH:-500}"
	if [ -n "${PROFILE:-}" ]; then
		export PHAROS_BENCH_CPUPROFILE="$PROFILE"
	fi
	exec go test -run '^$' -bench "AggregateDrain/${ONLY:-}" -benchtime="${BENCHTIME:-1x}" -timeout 30m ./app/aggregate/
	;;
*)
	echo "usage: $0 [throughput|lag|drain]" >&2
	exit 2
	;;
esac
