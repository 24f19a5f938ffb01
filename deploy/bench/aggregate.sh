#!/usr/bin/env bash
# Aggregator throughput and lag: results stored and judged per second through
# aggregate.ProcessBatch into PostgreSQL and SQLite (steady state, 1,000
# checks × 3 regions per round; one batch, or four shard batches in
# parallel). Needs the local PostgreSQL (DEVELOPERS.md); set
# PHAROS_TEST_DATABASE_URL to use another.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PHAROS_TEST_DATABASE_URL="${PHAROS_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
exec go test -run '^$' -bench Aggregate -benchmem -benchtime="${BENCHTIME:-20x}" ./app/aggregate/
