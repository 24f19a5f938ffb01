package store

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/pressly/goose/v3/lock"
)

// TestMigrationLockPerSchema: public keeps goose's lock, so a deployment
// serialises its migrations as it always did; other schemas (tests on one
// server) each get their own and never queue behind each other.
func TestMigrationLockPerSchema(t *testing.T) {
	t.Parallel()
	if got := migrationLockID("public"); got != lock.DefaultLockID {
		t.Errorf("public: got %d, want goose's default %d", got, lock.DefaultLockID)
	}
	a, b := migrationLockID("t_0a1b"), migrationLockID("t_2c3d")
	if a == b || a == lock.DefaultLockID || a < 0 || b < 0 {
		t.Errorf("schema locks %d and %d: want two distinct, non-negative ids apart from the default", a, b)
	}
}

// TestInTxRollsBackOnPanic: a panic inside the transaction rolls it back
// (nothing it wrote stays) and still reaches the caller.
func TestInTxRollsBackOnPanic(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := t.Context()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		_ = st.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO orgs (name, slug) VALUES ('P', 'p')`); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM orgs`).Scan(&n); err != nil || n != 0 {
		t.Errorf("orgs after a panicking transaction: %d, %v; want 0", n, err)
	}
	// The pool is usable: the connection was not left inside a transaction.
	if err := st.InTx(ctx, func(tx *Tx) error { return nil }); err != nil {
		t.Errorf("a transaction after the panic: %v", err)
	}
}

// TestUniqueViolationsByCode: both drivers' unique violations are known by
// their codes, and another error is not one.
func TestUniqueViolationsByCode(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := t.Context()
	if _, err := st.db.ExecContext(ctx, `INSERT INTO orgs (name, slug) VALUES ('A', 'a')`); err != nil {
		t.Fatal(err)
	}
	_, err := st.db.ExecContext(ctx, `INSERT INTO orgs (name, slug) VALUES ('A2', 'a')`)
	if !isUniqueViolation(err) {
		t.Errorf("duplicate slug on SQLite: %v not recognised", err)
	}
	_, err = st.db.ExecContext(ctx, `INSERT INTO no_such_table VALUES (1)`)
	if err == nil || isUniqueViolation(err) {
		t.Errorf("a missing table counted as a unique violation: %v", err)
	}
}

// openSQLite opens and migrates a store on a fresh SQLite file.
func openSQLite(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestEachChunk: rows are split as one statement carries them, every row
// once and in order, with each chunk's statement holding its rows'
// placeholders: one row a statement on SQLite, maxBulkParams' worth on
// PostgreSQL with a shorter last chunk.
func TestEachChunk(t *testing.T) {
	t.Parallel()
	const cols = 4
	per := maxBulkParams / cols
	for _, tc := range []struct {
		dialect Dialect
		n       int
		want    [][2]int
	}{
		{SQLite, 3, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{Postgres, 2*per + 3, [][2]int{{0, per}, {per, 2 * per}, {2 * per, 2*per + 3}}},
		{Postgres, 0, nil},
	} {
		s := &Store{queries: queries{dialect: tc.dialect}}
		var got [][2]int
		err := s.eachChunk(tc.n, cols, "INSERT INTO t VALUES ", " ON CONFLICT DO NOTHING", func(start, end int, query string) error {
			got = append(got, [2]int{start, end})
			if want := s.bulk("INSERT INTO t VALUES ", cols, end-start, " ON CONFLICT DO NOTHING"); query != want {
				t.Errorf("%s, rows %d-%d: statement of %d bytes, want %d", tc.dialect, start, end, len(query), len(want))
			}
			return nil
		})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s, %d rows: chunks %v, %v; want %v", tc.dialect, tc.n, got, err, tc.want)
		}
	}
}
