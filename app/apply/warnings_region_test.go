package apply

import (
	"context"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestRegionWarnings: a check none of whose regions has a worker reporting
// is warned about, naming the regions that do report; nothing is said
// while no region reports at all.
func TestRegionWarnings(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		parse := func(regions string) *config {
			cfg, errs := parseConfig([]byte("page: {slug: acme, title: ACME}\nregions: "+regions+
				"\ncomponents:\n  - name: API\n    checks:\n      - name: api\n        url: https://api.acme.org/\n"), "", Limits{})
			if len(errs) > 0 {
				t.Fatalf("parse: %v", errs)
			}
			return cfg
		}
		if got, err := regionWarnings(ctx, st, parse("[fra, iad]"), now, false); err != nil || len(got) != 0 {
			t.Fatalf("no region reporting yet: got %+v, %v; want no warning", got, err)
		}
		orgID, checkID := storetest.SeedCheck(t, st)
		q := `INSERT INTO check_latest (org_id, check_id, region, node, state, result_id, checked_at) VALUES (?, ?, 'local', '', 'up', 'r1', ?)`
		if st.Dialect() == store.Postgres {
			q = `INSERT INTO check_latest (org_id, check_id, region, node, state, result_id, checked_at) VALUES ($1, $2, 'local', '', 'up', 'r1', $3)`
		}
		if _, err := st.DB().ExecContext(ctx, q, orgID, checkID, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := regionWarnings(ctx, st, parse("[fra, iad]"), now, false)
		if err != nil || len(got) != 1 {
			t.Fatalf("only local reporting: got %+v, %v; want one warning", got, err)
		}
		for _, want := range []string{"no worker of fra, iad has reported", "(reporting: local)", "misconfigured"} {
			if !strings.Contains(got[0].Message, want) {
				t.Errorf("warning %q does not say %q", got[0].Message, want)
			}
		}
		if got[0].Line != 6 || got[0].Check != "api" {
			t.Errorf("warning at line %d for %q, want line 6 (the check, which inherits the regions) for api", got[0].Line, got[0].Check)
		}
		if got, err := regionWarnings(ctx, st, parse("[local, fra]"), now, false); err != nil || len(got) != 0 {
			t.Errorf("one region served: got %+v, %v; want no warning", got, err)
		}
	})
}

// TestEmbeddedRegionWarnings: without Redis only the built-in worker of
// `pharos run` probes, in region local, so a check of other regions is
// warned about at once, saying what to do.
func TestEmbeddedRegionWarnings(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	cfg, errs := parseConfig([]byte("page: {slug: acme, title: ACME}\nregions: [fra, iad]\ncomponents:\n  - name: API\n    checks:\n"+
		"      - name: api\n        url: https://api.acme.org/\n      - name: local one\n        url: https://api.acme.org/\n        regions: [local]\n"), "", Limits{})
	if len(errs) > 0 {
		t.Fatalf("parse: %v", errs)
	}
	got, err := regionWarnings(context.Background(), st, cfg, time.Now(), true)
	if err != nil || len(got) != 1 || got[0].Check != "api" {
		t.Fatalf("got %+v, %v; want one warning, for api", got, err)
	}
	for _, want := range []string{"no worker can probe fra, iad here", "PHAROS_REDIS_URL", "region local", "leave out `regions`"} {
		if !strings.Contains(got[0].Message, want) {
			t.Errorf("warning %q does not say %q", got[0].Message, want)
		}
	}
}
