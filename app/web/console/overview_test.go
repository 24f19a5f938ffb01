package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestOverview: the start page shows the open incident, the failing check
// with its problems, the certificates served now soonest to expire and each
// region's health and recent results — and another organisation none of
// them; the page list and the owner's tokens stay.
func TestOverview(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		now := time.Now().UTC()
		seedFailingCheck(t, st, a, now)
		if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, `INSERT INTO incidents (org_id, page_id, component_id, name, status, impact, automatic)
			VALUES (?, ?, ?, 'API certificate expired', 'investigating', 'major', TRUE)`), a.Org.ID, a.PageID, a.CompID); err != nil {
			t.Fatal(err)
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.SetRegionHealth(ctx, a.Org.ID, "nyc", false, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		h := webtest.NewServer(t, st, nil).Handler()

		owner := webtest.NewBrowser(t, h)
		owner.Login(a.Owner, webtest.TestPassword)
		home := owner.Get("/admin/").Body
		for _, want := range []string{
			`data-testid="overview"`, "API certificate expired",
			`data-testid="failing-check"`, "a health", "fra: cert_expired, nodes_disagree",
			`data-testid="expiring-cert"`, "CN=api.a.example",
			`data-testid="region"`, `data-testid="region-health">unhealthy`, `data-testid="region-health">healthy`,
			`href="/admin/certificates"`,
			`data-testid="pages"`, `data-testid="tokens"`,
		} {
			if !strings.Contains(home, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
		// Both certificates are served now: the third node serves the
		// odd one.
		if n := strings.Count(home, `data-testid="expiring-cert"`); n != 2 {
			t.Errorf("expiring certificates: %d, want 2", n)
		}
		// The seed sends a result per region every 20 minutes.
		if !strings.Contains(home, `data-testid="region-recent">1<`) && !strings.Contains(home, `data-testid="region-recent">0<`) {
			t.Errorf("region tiles lack a recent result count")
		}

		other := webtest.NewBrowser(t, h)
		other.Login(b.Viewer, webtest.TestPassword)
		home = other.Get("/admin/").Body
		for _, leak := range []string{"API certificate expired", "a health", "CN=api.a.example", `data-testid="region"`} {
			if strings.Contains(home, leak) {
				t.Errorf("another organisation's overview shows %q", leak)
			}
		}
		for _, want := range []string{`data-testid="overview-no-incidents"`, `data-testid="overview-no-failing"`} {
			if !strings.Contains(home, want) {
				t.Errorf("an organisation without trouble: overview lacks %q", want)
			}
		}
	})
}
