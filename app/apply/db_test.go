package apply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"pharos/app/store"
)

// tenantTables are the tables apply writes, each with the org_id column
// that scopes it.
var tenantTables = []string{"pages", "component_groups", "components", "checks", "maintenance_windows", "maintenance_components", "audit_log"}

// dump renders every row apply may write for the organisation, so a test
// can prove that nothing changed.
func dump(t *testing.T, st *store.Store, orgID int64) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range tenantTables {
		out[table] = rows(t, st, table, orgID)
	}
	return out
}

func rows(t *testing.T, st *store.Store, table string, orgID int64) []string {
	t.Helper()
	query := fmt.Sprintf("SELECT * FROM %s WHERE org_id = %d ORDER BY 1, 2, 3", table, orgID)
	rs, err := st.DB().QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, st *store.Store, table string, orgID int64) int {
	t.Helper()
	return len(rows(t, st, table, orgID))
}
