package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// SQLite with a statement cache per connection. The driver prepares —
// parses and plans — every statement it runs, and an aggregator batch runs
// about fifteen of them: parsing was a fifth of `pharos run`'s CPU at 1,000
// checks every 30 s (CPU profile of deploy/bench/soak.sh). Each connection
// now keeps the statements it prepared, by their text, and runs them
// again. PostgreSQL needs none of this: pgx caches prepared statements per
// connection itself.

// maxCachedStmts bounds the statements one connection keeps. Texts built
// per call (a bulk insert of N rows) would otherwise grow the cache without
// end; when it is full the idle entry used longest ago is evicted, so the
// hot statements stay. Each costs memory (its compiled program): 64 per
// connection filled up within two minutes of `pharos run` and cost ~7 MB of
// RSS over eight connections.
const maxCachedStmts = 32

// openSQLiteDB opens dsn through the driver's connector with the cache.
func openSQLiteDB(dsn string) (*sql.DB, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(stmtCacheConnector{base}), nil
}

type stmtCacheConnector struct{ driver.Connector }

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &stmtCacheConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

// sqliteConn is what modernc's connection offers and database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

var _ sqliteConn = (*stmtCacheConn)(nil)

// stmtCacheConn is one connection with its statements. database/sql uses
// a connection from one goroutine at a time and closes rows under the same
// lock, so the map needs no lock of its own.
type stmtCacheConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
	clock uint64 // counts uses, for lastUse
}

// preparedStmt is what modernc's prepared statements offer.
type preparedStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

type cachedStmt struct {
	stmt    preparedStmt
	busy    bool   // its rows are open: a nested use of the same text prepares afresh
	lastUse uint64 // the connection's clock at its last use
}

func (c *stmtCacheConn) base() sqliteConn { return c.Conn.(sqliteConn) }

// cached returns the connection's statement for query, preparing it the
// first time; nil when it is in use (the caller runs the query uncached).
func (c *stmtCacheConn) cached(ctx context.Context, query string) (*cachedStmt, error) {
	c.clock++
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		s.lastUse = c.clock
		return s, nil
	}
	ds, err := c.base().PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(preparedStmt)
	if !ok {
		ds.Close()
		return nil, errors.New("store: the SQLite driver's statements lost their context methods")
	}
	if len(c.stmts) >= maxCachedStmts {
		c.evictOne()
	}
	s := &cachedStmt{stmt: st, lastUse: c.clock}
	c.stmts[query] = s
	return s, nil
}

// evictOne finalises the idle statement used longest ago.
func (c *stmtCacheConn) evictOne() {
	var oldest string
	var found *cachedStmt
	for q, s := range c.stmts {
		if !s.busy && (found == nil || s.lastUse < found.lastUse) {
			oldest, found = q, s
		}
	}
	if found != nil {
		found.stmt.Close()
		delete(c.stmts, oldest)
	}
}

// drop forgets a statement that failed: its state after an error or an
// interruption is not known, so it is finalised rather than reused.
func (c *stmtCacheConn) drop(query string, s *cachedStmt) {
	if c.stmts[query] == s {
		delete(c.stmts, query)
	}
	s.stmt.Close()
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.cached(ctx, query)
	if err != nil || s == nil {
		return c.base().QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		c.drop(query, s)
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, conn: c, query: query, s: s}, nil
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.cached(ctx, query)
	if err != nil || s == nil {
		return c.base().ExecContext(ctx, query, args)
	}
	res, err := s.stmt.ExecContext(ctx, args)
	if err != nil {
		c.drop(query, s)
	}
	return res, err
}

func (c *stmtCacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base().PrepareContext(ctx, query)
}

func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base().BeginTx(ctx, opts)
}

func (c *stmtCacheConn) Ping(ctx context.Context) error { return c.base().Ping(ctx) }

func (c *stmtCacheConn) ResetSession(ctx context.Context) error { return c.base().ResetSession(ctx) }

func (c *stmtCacheConn) IsValid() bool { return c.base().IsValid() }

// Close finalises the cached statements, then closes the connection.
func (c *stmtCacheConn) Close() error {
	for q, s := range c.stmts {
		s.stmt.Close()
		delete(c.stmts, q)
	}
	return c.Conn.Close()
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	conn  *stmtCacheConn
	query string
	s     *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	if err != nil {
		r.conn.drop(r.query, r.s)
	}
	return err
}
