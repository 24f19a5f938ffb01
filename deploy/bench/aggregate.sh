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
#
# BENCHTIME (default 10x), RATE (default 20000), DURATION (seconds, default 10).
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
*)
	echo "usage: $0 [throughput|lag]" >&2
	exit 2
	;;
esac
