// Package store is Pharos's persistence: one *Store over database/sql that
// speaks PostgreSQL (pgx) in production and SQLite (modernc.org/sqlite, pure
// Go) as the embedded default. Queries are hand-written with '?' placeholders
// and rebound for PostgreSQL; every query that touches tenant data takes the
// organisation id and filters by it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"pharos/migrations"
)

// ErrNotFound is returned when a row does not exist in the caller's
// organisation. Rows of other organisations are reported the same way, so a
// tenant cannot learn that they exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a unique constraint would be violated.
var ErrConflict = errors.New("store: already exists")

// Dialect names the SQL engine behind a Store.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store is the database handle shared by every role. Its queries (the
// methods of the embedded queries) run on the pool; a Tx runs the same
// methods inside a transaction.
type Store struct {
	queries
	db     *sql.DB
	outbox signal // fired when a transaction that added outbox events commits
	infos  checkInfoCache
}

// Open connects to the database named by rawURL: "postgres://…" or
// "postgresql://…" for PostgreSQL, "sqlite://PATH" (or "sqlite::memory:") for
// SQLite. The SQLite parent directory is created if needed. Open does not
// migrate; call Migrate.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	driver, dsn, dialect, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		if dir := sqliteDir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create %s: %w", dir, err)
			}
		}
	}
	var db *sql.DB
	if dialect == SQLite {
		db, err = openSQLiteDB(dsn)
	} else {
		db, err = sql.Open(driver, dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	if dialect == SQLite {
		// One writer at a time is SQLite's model; WAL lets readers proceed.
		// A small pool keeps writers from queueing on busy_timeout. Every
		// connection stays open: a new one reads the schema again, which
		// with database/sql's default of two idle connections happened
		// many times a second under load (7 % of `pharos run`'s CPU).
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	} else {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", dialect, err)
	}
	return &Store{queries: queries{conn: db, dialect: dialect}, db: db}, nil
}

// uriPath escapes what SQLite's file: URIs give a meaning to in a path,
// so a directory named "runs#2" or "50%" is opened as named rather than
// cut at the '#' (a fragment) or decoded.
var uriPath = strings.NewReplacer("%", "%25", "#", "%23", "?", "%3f")

func parseURL(rawURL string) (driver, dsn string, dialect Dialect, err error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return "pgx", rawURL, Postgres, nil
	case strings.HasPrefix(rawURL, "sqlite://"), strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "sqlite:")
		query := ""
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path, query = path[:i], path[i+1:]
		}
		if path == "" {
			return "", "", "", fmt.Errorf("store: database URL %q names no SQLite file", rawURL)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", fmt.Errorf("store: database URL %q: %w", rawURL, err)
		}
		// Foreign keys on, WAL for concurrent readers, wait instead of failing
		// on a busy database, and take the write lock at BEGIN so two writers
		// never deadlock upgrading read locks. A page cache of 1 MiB per
		// connection rather than SQLite's 2: eight connections each filled
		// theirs, 7 MB of `pharos run`'s RSS (soak.sh), and the operating
		// system caches the file anyway.
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "cache_size(-1024)")
		if path != ":memory:" {
			q.Add("_pragma", "journal_mode(WAL)")
			q.Add("_pragma", "synchronous(NORMAL)")
		}
		q.Set("_txlock", "immediate")
		return "sqlite", "file:" + uriPath.Replace(path) + "?" + q.Encode(), SQLite, nil
	default:
		return "", "", "", fmt.Errorf("store: database URL %q: want postgres://… or sqlite://PATH", rawURL)
	}
}

func sqliteDir(dsn string) string {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == ":memory:" {
		return ""
	}
	if p, err := url.PathUnescape(path); err == nil { // undo uriPath
		path = p
	}
	return filepath.Dir(path)
}

// Migrate applies every pending migration of the store's dialect. It is safe
// to run at every start, and from several processes at once on PostgreSQL
// (goose holds an advisory lock).
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	var opts []goose.ProviderOption
	if s.dialect == Postgres {
		var schema string
		if err := s.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return 0, fmt.Errorf("store: migration schema: %w", err)
		}
		// One lock per schema, polled every second for up to five minutes:
		// processes migrating the same schema wait for each other, and
		// schemas of one server (tests) do not.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(schema)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return 0, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := s.migrations(opts...)
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	return len(results), nil
}

// SchemaVersion returns the version of the latest migration applied to the
// database, as goose records it.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	p, err := s.migrations()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: read the database's migration version: %w", err)
	}
	return v, nil
}

// migrations is goose over the store's database and the migrations of its
// dialect. The provider is never closed: that would close the store's
// database.
func (s *Store) migrations(opts ...goose.ProviderOption) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations.FS, string(s.dialect))
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	gd := goose.DialectSQLite3
	if s.dialect == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, s.db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// migrationLockID is the advisory lock that serialises migrations of one
// schema: goose's default for public (so a deployment keeps the lock it
// always had), a hash of the name for any other.
func migrationLockID(schema string) int64 {
	if schema == "public" {
		return lock.DefaultLockID
	}
	h := fnv.New64a()
	h.Write([]byte("pharos migrations\x00" + schema))
	return int64(h.Sum64() & math.MaxInt64)
}

// Dialect reports which engine the store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the pool for tests and health checks.
func (s *Store) DB() *sql.DB { return s.db }

// Ping reports whether the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries is the one home of the statements that read the same on the pool
// and in a transaction. Store and Tx embed it, so each such method is written
// once and both offer it: a Store runs it on its own, a Tx as part of the
// caller's transaction. What must be atomic with other statements (the
// catalogue writes of `pharos apply`, a membership change that keeps an
// owner, ...) is a method of Tx alone, and the Store method of the same name,
// where there is one, opens the transaction and calls it.
type queries struct {
	conn    querier // the pool for a Store, the transaction for a Tx
	dialect Dialect
}

// q rebinds '?' placeholders to PostgreSQL's $n. Queries never contain a
// literal '?' outside placeholders.
func (qs queries) q(query string) string {
	if qs.dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// rowScanner is what *sql.Row and *sql.Rows offer.
type rowScanner interface{ Scan(dest ...any) error }

// collect runs a query on q (the pool or a transaction) and scans every row
// with scan; what names the rows in errors.
func collect[T any](ctx context.Context, q querier, what string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list %s: %w", what, err)
	}
	return out, nil
}

// Tx is a transaction. It has the Store's queries (run inside it) and the
// writes that need a transaction around them.
type Tx struct {
	queries
	tx          *sql.Tx
	s           *Store
	wroteOutbox bool // AddOutbox added events: fire s.outbox on commit
	// latest holds the whole-check latest rows of the checks
	// WholeLatestForChecks read, by check id (a nil entry for a check
	// without rows), so that AdvanceLatest need not read them again;
	// AdvanceLatest drops the entries of the checks it writes. On SQLite
	// the transaction holds the write lock from BEGIN on
	// (_txlock=immediate), so no other connection can change them
	// meanwhile; on PostgreSQL see advanceLatestPG.
	latest map[int64][]Latest
}

// InTx runs fn in one transaction, committing when fn returns nil and rolling
// back otherwise, a panic included (it goes on after the rollback).
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback() // the panic is the news; a failed rollback ends with the connection
			panic(p)
		}
	}()
	tx := &Tx{queries: queries{conn: sqlTx, dialect: s.dialect}, tx: sqlTx, s: s}
	if err := fn(tx); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if tx.wroteOutbox {
		s.outbox.fire()
	}
	return nil
}

// OutboxWritten returns a channel that is closed when a transaction of
// this process that added outbox events next commits. The notifier waits
// on it beside its poll, so that events written in the same process (by
// the aggregator, the console, the API) go out at once; events written by
// another process wait for the poll.
func (s *Store) OutboxWritten() <-chan struct{} { return s.outbox.wait() }

// signal is a broadcast: every channel returned by wait before fire is
// closed by it.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (g *signal) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

func (g *signal) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
}

// now is the single place the store reads the clock; times are stored in UTC
// so SQLite's text timestamps sort correctly.
func now() time.Time { return time.Now().UTC() }

// pgUniqueViolation is PostgreSQL's SQLSTATE for a unique violation.
const pgUniqueViolation = "23505"

// isUniqueViolation recognises a unique-constraint error from either driver
// by its code (PostgreSQL's 23505, SQLite's extended UNIQUE and PRIMARY KEY
// constraint codes), so callers need no driver types.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// nullTime converts a nullable time column.
func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
