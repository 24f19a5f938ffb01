package console_test

import (
	"context"
	"encoding/json"
	"net/http"
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
	t.Parallel()
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
		seedRegions(t, st, a.Org.ID, now)
		h := webtest.NewServer(t, st, nil).Handler()

		owner := webtest.NewBrowser(t, h)
		owner.Login(a.Owner, webtest.TestPassword)
		home := owner.Get("/admin/").Body
		for _, want := range []string{
			`data-testid="overview"`, "API certificate expired",
			`data-testid="failing-check"`, "a health", "fra: cert_expired, nodes_disagree",
			`data-testid="expiring-cert"`, "CN=api.a.example",
			`data-testid="region"`, `data-testid="region-health" title="cannot reach the canary, which fra reaches">unhealthy`,
			`data-testid="region-health" title="reaches the canary">healthy`, `data-testid="region-workers">1<`,
			`data-testid="region-canary">reached<`, `data-testid="region-canary">unreachable: connection refused<`,
			`data-testid="region-health" title="not judged yet: waiting for other regions or the canary">not judged yet`,
			`data-testid="region-missed">7 rounds missed<`,
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
		for _, leak := range []string{"API certificate expired", "a health", "CN=api.a.example", `data-testid="region-recent">1<`} {
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

// seedRegions records what the aggregators would after sin's network
// broke: fra healthy and reaching the canary, nyc recorded unhealthy for
// org (and judged so), sin not judged yet.
func seedRegions(t *testing.T, st *store.Store, org int64, now time.Time) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.SetRegionHealth(ctx, org, "nyc", false, now); err != nil {
			return err
		}
		if err := tx.RecordBeacons(ctx, []store.Beacon{
			{Region: "fra", Worker: "fra-1", SeenAt: now.Add(-10 * time.Second), CanaryState: "up"},
			{Region: "nyc", Worker: "nyc-1", SeenAt: now.Add(-10 * time.Second), CanaryState: "down", CanaryError: "connection refused"},
		}); err != nil {
			return err
		}
		if err := tx.AddMissedRounds(ctx, []store.MissedRounds{{OrgID: org, Region: "nyc", Hour: now, Missed: 5},
			{OrgID: org, Region: "nyc", Hour: now.Add(-time.Hour), Missed: 2}, {OrgID: org, Region: "nyc", Hour: now.Add(-48 * time.Hour), Missed: 9}}); err != nil {
			return err
		}
		return tx.SetRegionVerdicts(ctx, []store.RegionVerdict{
			{Region: "fra", Health: "healthy", Reason: "reaches the canary"},
			{Region: "nyc", Health: "unhealthy", Reason: "cannot reach the canary, which fra reaches"},
			{Region: "sin", Health: "unjudged", Reason: "not judged yet: waiting for other regions or the canary"},
		}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRegionsAPI: GET /api/v1/regions gives every region's health with
// its reason, workers and canary, and the organisation's own results; a
// token is required.
func TestRegionsAPI(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		now := time.Now().UTC()
		seedFailingCheck(t, st, a, now)
		seedRegions(t, st, a.Org.ID, now)
		h := webtest.NewServer(t, st, nil).Handler()
		api := webtest.NewBrowser(t, h)
		if res := api.Get("/api/v1/regions"); res.Code != http.StatusUnauthorized {
			t.Errorf("without a token: got %d, want 401", res.Code)
		}
		res := api.Do(http.MethodGet, "/api/v1/regions", nil, webtest.Bearer(a.ViewTok))
		if res.Code != http.StatusOK {
			t.Fatalf("got %d\n%s", res.Code, res.Body)
		}
		var doc struct {
			Regions []struct {
				Region  string `json:"region"`
				Health  string `json:"health"`
				Reason  string `json:"reason"`
				Canary  struct{ State, Error string }
				Workers []struct {
					Name   string    `json:"name"`
					SeenAt time.Time `json:"seen_at"`
				} `json:"workers"`
				Results      int        `json:"results_5m"`
				LastResultAt *time.Time `json:"last_result_at"`
				Missed       int        `json:"missed_rounds_24h"`
			} `json:"regions"`
		}
		if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
			t.Fatalf("%v\n%s", err, res.Body)
		}
		byRegion := map[string]int{}
		for i, r := range doc.Regions {
			byRegion[r.Region] = i
		}
		for _, want := range []struct{ region, health, canary string }{
			{"fra", "healthy", "up"}, {"nyc", "unhealthy", "down"}, {"sin", "unjudged", ""},
		} {
			i, ok := byRegion[want.region]
			if !ok {
				t.Errorf("%s missing from %s", want.region, res.Body)
				continue
			}
			r := doc.Regions[i]
			if r.Health != want.health || r.Canary.State != want.canary || r.Reason == "" {
				t.Errorf("%s: got %+v, want %s with canary %q and a reason", want.region, r, want.health, want.canary)
			}
		}
		if fra := doc.Regions[byRegion["fra"]]; len(fra.Workers) != 1 || fra.Workers[0].Name != "fra-1" || fra.LastResultAt == nil {
			t.Errorf("fra: got %+v, want worker fra-1 and the organisation's last result", fra)
		}
		if nyc := doc.Regions[byRegion["nyc"]]; nyc.Canary.Error != "connection refused" || nyc.Missed != 7 {
			t.Errorf("nyc: canary error %q, missed rounds %d; want connection refused and 7", nyc.Canary.Error, nyc.Missed)
		}
	})
}
