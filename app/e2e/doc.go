// Package e2e holds whole-pipeline tests of the distributed deployment
// (DESIGN §2–§4): the real scheduler, probe workers of several regions and
// aggregator, built in-process over real Redis and PostgreSQL, probing real
// TLS servers on loopback addresses.
//
// The tests need PHAROS_TEST_REDIS_URL and PHAROS_TEST_DATABASE_URL; they
// skip with a message naming what is missing, and fail instead when
// PHAROS_TEST_REQUIRE_SERVICES=1. Each test uses its own Redis key prefix
// (deleted at the end) and its own PostgreSQL schema.
//
// The package has no code of its own: everything is in its _test.go files.
package e2e
