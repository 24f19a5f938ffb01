package storetest

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pharos/app/store"
)

// Migrating a database costs a PostgreSQL server about a third of a second
// of CPU, and SQLite a tenth: most of a short store test's time. Under Main,
// a package migrates each database once. SQLite stores are copies of one
// migrated file; a PostgreSQL schema is emptied when its test ends (rows
// deleted, sequences restarted: what a fresh migration leaves) and serves
// the next test. A test that changes the schema itself must open its own
// through PostgresURL. Without Main every test migrates its own.

// Main runs a package's tests with migrated databases reused between tests
// and removed when the tests end. A package's TestMain calls it:
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
func Main(m *testing.M) int {
	p := &pool{}
	running.Store(p)
	defer running.Store(nil)
	defer p.close()
	return m.Run()
}

// running is the pool of the running Main, nil without one. Main runs once
// per test binary, around every test, so this is the only state tests share.
var running atomic.Pointer[pool]

type pool struct {
	mu       sync.Mutex
	dir      string // holds the migrated SQLite file, once made
	template string
	admin    *sql.DB
	free     []string // PostgreSQL schemas emptied and ready
	all      []string // every PostgreSQL schema made, dropped by close
	reset    string   // the statements that empty a schema, %[1]s for its name
}

// sqlite copies the migrated template into a new file under t.TempDir.
func (p *pool) sqlite(t testing.TB) *store.Store {
	t.Helper()
	template, err := p.sqliteTemplate()
	if err != nil {
		t.Fatalf("migrated SQLite template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "pharos.db")
	if err := copyFile(path, template); err != nil {
		t.Fatal(err)
	}
	return openOnly(t, "sqlite://"+path)
}

func (p *pool) sqliteTemplate() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.template != "" {
		return p.template, nil
	}
	dir, err := os.MkdirTemp("", "pharos-storetest-")
	if err != nil {
		return "", err
	}
	p.dir = dir
	path := filepath.Join(dir, "template.db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, "sqlite://"+path)
	if err != nil {
		return "", err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return "", err
	}
	// Closing the last connection checkpoints the WAL into the file, which
	// is then the whole database.
	if err := s.Close(); err != nil {
		return "", err
	}
	p.template = path
	return path, nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// postgres hands out an emptied schema, or makes and migrates a new one,
// and takes it back emptied when the test ends.
func (p *pool) postgres(t testing.TB) *store.Store {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		SkipOrFail(t, EnvDatabaseURL+" is not set: skipping the PostgreSQL backend (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	schema, fresh, err := p.take(base)
	if err != nil {
		t.Fatalf("PostgreSQL schema on %s: %v", EnvDatabaseURL, err)
	}
	// Registered before the store's Close, so it runs after it.
	t.Cleanup(func() {
		if err := p.give(schema); err != nil {
			t.Errorf("empty schema %s for the next test: %v", schema, err)
		}
	})
	rawURL, err := schemaURL(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh {
		return openOnly(t, rawURL)
	}
	s := open(t, rawURL)
	if err := p.learnReset(schema); err != nil {
		t.Fatalf("list the tables of %s: %v", schema, err)
	}
	return s
}

func (p *pool) take(base string) (schema string, fresh bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		schema = p.free[n-1]
		p.free = p.free[:n-1]
		return schema, false, nil
	}
	if p.admin == nil {
		if p.admin, err = sql.Open("pgx", base); err != nil {
			return "", false, err
		}
	}
	schema, err = createSchema(p.admin)
	if err != nil {
		return "", false, err
	}
	p.all = append(p.all, schema)
	return schema, true, nil
}

// learnReset writes, once, the statements that empty a schema: DELETE from
// every table, children before the tables they reference, and every
// sequence back to its start. Deleting the few rows a test leaves is a
// fraction of TRUNCATE's cost, which makes new files for every table.
func (p *pool) learnReset(schema string) error {
	p.mu.Lock()
	known := p.reset != ""
	p.mu.Unlock()
	if known {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tables, err := deleteOrder(ctx, p.admin, schema)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, tb := range tables {
		fmt.Fprintf(&b, "DELETE FROM %%[1]s.%s;\n", tb)
	}
	b.WriteString("SELECT setval(format('%%I.%%I', schemaname, sequencename), start_value, false) FROM pg_sequences WHERE schemaname = '%[1]s';\n")
	p.mu.Lock()
	p.reset = b.String()
	p.mu.Unlock()
	return nil
}

// deleteOrder lists the schema's tables but goose's, each after every
// table whose foreign keys reference it.
func deleteOrder(ctx context.Context, db *sql.DB, schema string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT c.relname, coalesce(r.relname, '')
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_constraint k ON k.confrelid = c.oid AND k.contype = 'f' AND k.conrelid <> c.oid
		LEFT JOIN pg_class r ON r.oid = k.conrelid
		WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> 'goose_db_version'`, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	referencedBy := map[string][]string{}
	for rows.Next() {
		var table, child string
		if err := rows.Scan(&table, &child); err != nil {
			return nil, err
		}
		referencedBy[table] = referencedBy[table]
		if child != "" {
			referencedBy[table] = append(referencedBy[table], child)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var order []string
	done := map[string]bool{}
	for len(done) < len(referencedBy) {
		progress := false
		for table, children := range referencedBy {
			if done[table] || !all(children, done) {
				continue
			}
			order, done[table], progress = append(order, `"`+table+`"`), true, true
		}
		if !progress {
			return nil, errors.New("the foreign keys form a cycle: no order deletes every row")
		}
	}
	return order, nil
}

func all(names []string, set map[string]bool) bool {
	for _, n := range names {
		if !set[n] {
			return false
		}
	}
	return true
}

// give empties schema and puts it back for the next test. An error (a
// test left a transaction open, say) drops the schema instead.
func (p *pool) give(schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.mu.Lock()
	reset := p.reset
	p.mu.Unlock()
	err := errors.New("its tables were never listed")
	if reset != "" {
		err = emptySchema(ctx, p.admin, fmt.Sprintf(reset, schema))
	}
	if err != nil {
		p.drop(schema)
		return err
	}
	p.mu.Lock()
	p.free = append(p.free, schema)
	p.mu.Unlock()
	return nil
}

func emptySchema(ctx context.Context, db *sql.DB, statements string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off; SET LOCAL lock_timeout = '5s';\n"+statements); err != nil {
		return err
	}
	return tx.Commit()
}

func (p *pool) drop(schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
		fmt.Fprintf(os.Stderr, "storetest: drop schema %s: %v\n", schema, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.all {
		if s == schema {
			p.all = append(p.all[:i], p.all[i+1:]...)
			break
		}
	}
}

// close drops every schema and the SQLite template.
func (p *pool) close() {
	p.mu.Lock()
	schemas := append([]string(nil), p.all...)
	p.mu.Unlock()
	for _, s := range schemas {
		p.drop(s)
	}
	if p.admin != nil {
		p.admin.Close()
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// WaitBound lets up to n tests (or subtests) marked t.Parallel run at once
// unless the command line set -test.parallel: for a package whose tests
// mostly wait on timers, servers and other processes, so that more of them
// than the default GOMAXPROCS can wait side by side. TestMain calls it
// before Main.
func WaitBound(n int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if set || n <= runtime.GOMAXPROCS(0) {
		return
	}
	if err := flag.Set("test.parallel", strconv.Itoa(n)); err != nil {
		panic(err) // only if testing stopped registering the flag
	}
}
