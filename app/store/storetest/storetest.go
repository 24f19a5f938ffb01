// Package storetest opens real stores for tests: a migrated SQLite file, and
// a migrated PostgreSQL schema when PHAROS_TEST_DATABASE_URL is set, each
// empty and the test's own. Tests that need PostgreSQL skip with a message
// naming the variable when it is unset, and fail instead when
// PHAROS_TEST_REQUIRE_SERVICES=1. A package whose TestMain calls Main
// migrates once and reuses the databases (pool.go).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection for schemas

	"pharos/app/store"
)

// EnvDatabaseURL names the PostgreSQL server tests use.
const EnvDatabaseURL = "PHAROS_TEST_DATABASE_URL"

// EnvRequireServices makes a missing service a failure rather than a skip.
const EnvRequireServices = "PHAROS_TEST_REQUIRE_SERVICES"

// Backends runs fn once per backend as parallel subtests named "sqlite"
// and "postgres", each with a freshly migrated, empty store of its own.
// They run once the calling test returns (or calls no more than Backends):
// fn must not share mutable state with the caller or the other backend.
func Backends(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	backends(t, fn, false)
}

// BackendsInBubble is Backends with the SQLite subtest in a
// testing/synctest bubble: with the in-process bus every goroutine and
// timer of the code under test, the bus and the store is the test's, so
// tickers, the test's sleeps and its waits take no wall time, and time.Now
// reads the bubble's clock. fn must make everything it uses inside itself
// (a bus, a reader) and stop it before it returns or in t.Cleanup.
// PostgreSQL stays on the real clock: pgx's timers and connections are not
// the bubble's.
func BackendsInBubble(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	backends(t, fn, true)
}

func backends(t *testing.T, fn func(t *testing.T, s *store.Store), bubble bool) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		if bubble {
			synctest.Test(t, func(t *testing.T) { fn(t, SQLite(t)) })
			return
		}
		fn(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, Postgres(t))
	})
}

// BenchBackends runs fn once per backend as sub-benchmarks named "sqlite"
// and "postgres", one after the other (a benchmark's figures are its own
// only when nothing runs beside it), each with a freshly migrated, empty
// store of its own.
func BenchBackends(b *testing.B, fn func(b *testing.B, s *store.Store)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) { fn(b, SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, Postgres(b)) })
}

// SQLite returns a migrated store on a new file under t.TempDir().
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	if p := running.Load(); p != nil {
		return p.sqlite(t)
	}
	return open(t, "sqlite://"+filepath.Join(t.TempDir(), "pharos.db"))
}

// Postgres returns a migrated, empty store on a schema of the test server
// that no other test uses meanwhile.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	if p := running.Load(); p != nil {
		return p.postgres(t)
	}
	return open(t, PostgresURL(t))
}

// PostgresURL creates a fresh schema and returns a database URL whose
// search_path points at it (for tests that open the store themselves, such as
// CLI tests). The schema is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		SkipOrFail(t, EnvDatabaseURL+" is not set: skipping the PostgreSQL backend (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvDatabaseURL, err)
	}
	t.Cleanup(func() { admin.Close() })
	schema, err := createSchema(admin)
	if err != nil {
		t.Fatalf("create schema on %s: %v", EnvDatabaseURL, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := schemaURL(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// createSchema creates a schema with a random name and returns the name.
func createSchema(admin *sql.DB) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	schema := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", err
	}
	return schema, nil
}

// schemaURL is base with its search_path set to schema.
func schemaURL(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A test database need not survive a crash: commits skip the wait for
	// the WAL flush, which is most of a small transaction's time.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// open opens and migrates the store at rawURL, closed when the test ends.
func open(t testing.TB, rawURL string) *store.Store {
	t.Helper()
	s := openOnly(t, rawURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", s.Dialect(), err)
	}
	return s
}

// openOnly opens the store at rawURL, closed when the test ends.
func openOnly(t testing.TB, rawURL string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// SkipOrFail skips the test with msg, or fails it when the environment says
// every service must be present (CI).
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if v := strings.ToLower(os.Getenv(EnvRequireServices)); v == "1" || v == "true" {
		t.Fatalf("%s (and %s=1)", msg, EnvRequireServices)
	}
	t.Skip(msg)
}

// SeedCheck creates the organisation "acme" with one page, one component
// and one check (https://api.example/, every minute) and returns the ids
// of the organisation and the check.
func SeedCheck(t testing.TB, s *store.Store) (orgID, checkID int64) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.CreateOrg(ctx, "ACME", "acme")
		if err != nil {
			return err
		}
		p, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "acme", Title: "ACME", TimeZone: "UTC"})
		if err != nil {
			return err
		}
		c, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: p.ID, Name: "API"})
		if err != nil {
			return err
		}
		ch, err := tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: p.ID, ComponentID: c.ID, Name: "api",
			URL: "https://api.example/", Spec: []byte(`{}`), Interval: time.Minute})
		orgID, checkID = org.ID, ch.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return orgID, checkID
}
