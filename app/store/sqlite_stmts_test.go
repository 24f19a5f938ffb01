package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteStatementCache runs the cache's cases on one real SQLite
// connection: a statement is prepared once and reused, a nested use of the
// same text while its rows are open still reads right, a statement that
// failed is not reused, a cancelled query leaves the next one working, and
// the cache stays bounded.
func TestSQLiteStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := openSQLiteDB(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // every statement on the one connection
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cache := func() map[string]*cachedStmt {
		var m map[string]*cachedStmt
		if err := conn.Raw(func(dc any) error { m = dc.(*stmtCacheConn).stmts; return nil }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`)
	const insert = `INSERT INTO t (id, name) VALUES (?, ?)`
	for i := 1; i <= 3; i++ {
		mustExec(insert, i, fmt.Sprint("n", i))
	}
	first := cache()[insert]
	if first == nil {
		t.Fatal("the insert was not kept")
	}
	mustExec(insert, 4, "n4")
	if cache()[insert] != first {
		t.Error("the insert was prepared again")
	}

	// Nested: the same SELECT inside the loop over its own rows.
	const byID = `SELECT name FROM t WHERE id >= ? ORDER BY id`
	rows, err := conn.QueryContext(ctx, byID, 1)
	if err != nil {
		t.Fatal(err)
	}
	var outer, inner []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, name)
		if len(outer) == 2 {
			if err := conn.QueryRowContext(ctx, byID, 3).Scan(&name); err != nil {
				t.Fatal(err)
			}
			inner = append(inner, name)
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(outer, ","); got != "n1,n2,n3,n4" || strings.Join(inner, ",") != "n3" {
		t.Errorf("nested reads: outer %v inner %v, want n1..n4 and n3", outer, inner)
	}

	// A failed statement (unique violation) is dropped; its text still works.
	if _, err := conn.ExecContext(ctx, insert, 5, "n1"); err == nil {
		t.Fatal("a duplicate name was accepted")
	}
	if cache()[insert] == first {
		t.Error("a statement that failed was kept")
	}
	mustExec(insert, 5, "n5")

	// A query cancelled before it runs leaves the next one working.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := conn.QueryContext(cctx, byID, 1); err == nil {
		t.Error("a cancelled query ran")
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM t WHERE id >= ?`, 1).Scan(&n); err != nil || n != 5 {
		t.Errorf("after the cancelled query: %d rows, %v; want 5", n, err)
	}

	// Texts built per call fill the cache only up to its bound, and a
	// statement used all along stays while they come and go.
	const hot = `SELECT COUNT(*) FROM t WHERE id < ?`
	if err := conn.QueryRowContext(ctx, hot, 3).Scan(&n); err != nil {
		t.Fatal(err)
	}
	kept := cache()[hot]
	for i := range 3 * maxCachedStmts {
		var got int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d + ?`, i), 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("query %d: %d, %v", i, got, err)
		}
		if err := conn.QueryRowContext(ctx, hot, 3).Scan(&n); err != nil || n != 2 {
			t.Fatalf("the hot statement after query %d: %d, %v", i, n, err)
		}
	}
	if len(cache()) > maxCachedStmts {
		t.Errorf("%d statements kept, want at most %d", len(cache()), maxCachedStmts)
	}
	if cache()[hot] != kept {
		t.Error("the statement used all along was evicted")
	}
	if err := conn.QueryRowContext(ctx, byID, 5).Scan(new(string)); err != nil && err != sql.ErrNoRows {
		t.Errorf("after eviction: %v", err)
	}
}
