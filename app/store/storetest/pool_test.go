package storetest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"pharos/app/store"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestReusedDatabaseIsEmpty: the database a test gets after another used it
// is as a fresh migration leaves it: no rows, identities from 1, every
// migration recorded.
func TestReusedDatabaseIsEmpty(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", SQLite}, {"postgres", Postgres}} {
		t.Run(backend.name, func(t *testing.T) {
			var schemas []string
			for round := range 3 {
				t.Run(fmt.Sprint("round", round), func(t *testing.T) {
					s := backend.open(t)
					ctx := context.Background()
					if n, err := s.Migrate(ctx); err != nil || n != 0 {
						t.Errorf("round %d: migrate applied %d (%v), want 0", round, n, err)
					}
					if _, err := s.OrgBySlug(ctx, "acme"); err == nil {
						t.Errorf("round %d: the previous round's organisation is still there", round)
					}
					orgID, checkID := SeedCheck(t, s)
					if orgID != 1 || checkID != 1 {
						t.Errorf("round %d: got organisation %d and check %d, want 1 and 1", round, orgID, checkID)
					}
					if s.Dialect() == store.Postgres {
						var schema string
						if err := s.DB().QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
							t.Fatal(err)
						}
						schemas = append(schemas, schema)
					}
				})
			}
			if len(schemas) > 0 && (len(schemas) != 3 || schemas[0] != schemas[1] || schemas[1] != schemas[2]) {
				t.Errorf("schemas of the three rounds: got %v, want one schema reused", schemas)
			}
		})
	}
}
