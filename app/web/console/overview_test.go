package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
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
			"<td>1m</td>", // the seeded check's interval, not 1m0s
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
		// b's check has not reported: nothing fails, yet nothing is known
		// to be up.
		for _, want := range []string{`data-testid="overview-no-incidents"`, `data-testid="overview-not-reported"`, "b health"} {
			if !strings.Contains(home, want) {
				t.Errorf("an organisation without trouble: overview lacks %q", want)
			}
		}
	})
}

// TestOverviewChecksNotReported: before any probe has reported (right
// after an apply, with no worker in the checks' regions) the overview
// names each enabled check that has not reported yet, a paused one apart,
// and does not say every check is up; it says so once every enabled check
// is up, and says none is enabled when all are paused.
func TestOverviewChecksNotReported(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		addCheck := func(name string, enabled bool) int64 {
			t.Helper()
			var id int64
			if err := st.DB().QueryRowContext(ctx, webtest.Rebind(st, `INSERT INTO checks (org_id, page_id, component_id, name, url, enabled)
				VALUES (?, ?, ?, ?, 'https://api.a.example/', ?) RETURNING id`), a.Org.ID, a.PageID, a.CompID, name, enabled).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		checkout := addCheck("a checkout", true)
		paused := addCheck("a legacy", false)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, q), args...); err != nil {
				t.Fatal(err)
			}
		}
		viewer := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		viewer.Login(a.Viewer, webtest.TestPassword)
		overview := func() string {
			t.Helper()
			home := viewer.Get("/admin/").Body
			i, j := strings.Index(home, `data-testid="overview"`), strings.Index(home, `data-testid="pages"`)
			if i < 0 || j < i {
				t.Fatalf("no overview before the pages:\n%s", home)
			}
			return home[i:j] // the page list names every check anyway
		}
		unreported := func(o string) []string {
			var ids []string
			for _, part := range strings.Split(o, `data-testid="unreported-check"`)[1:] {
				if k := strings.Index(part, `href="/admin/checks/`); k >= 0 {
					ids = append(ids, strings.SplitN(part[k+len(`href="/admin/checks/`):], `"`, 2)[0])
				}
			}
			return ids
		}

		o := overview()
		if got, want := unreported(o), []string{webtest.ID(checkout), webtest.ID(a.CheckID)}; !slices.Equal(got, want) {
			t.Errorf("no check has reported: unreported checks %v, want %v (not the paused %d)", got, want, paused)
		}
		if !contains(o, "2 checks have not reported yet", "a health", "a checkout", "A status · a API") || contains(o, "a legacy") {
			t.Errorf("no check has reported: the overview does not name the two enabled checks:\n%s", o)
		}
		if contains(o, `data-testid="overview-no-failing"`) || contains(o, "Every check is up") {
			t.Errorf("no check has reported, yet the overview says every check is up:\n%s", o)
		}

		exec(`UPDATE checks SET state = 'up' WHERE id = ?`, a.CheckID)
		o = overview()
		if got, want := unreported(o), []string{webtest.ID(checkout)}; !slices.Equal(got, want) || !contains(o, "1 check has not reported yet") {
			t.Errorf("one check up: unreported checks %v, want %v, said once", got, want)
		}
		if contains(o, "Every check is up") {
			t.Errorf("one check has not reported, yet the overview says every check is up:\n%s", o)
		}

		exec(`UPDATE checks SET state = 'up' WHERE id = ?`, checkout)
		o = overview()
		if !contains(o, `data-testid="overview-no-failing"`, "Every check is up.") || contains(o, `data-testid="unreported-check"`) {
			t.Errorf("every enabled check up (the paused one unknown): want \"Every check is up.\" alone:\n%s", o)
		}

		exec(`UPDATE checks SET enabled = FALSE WHERE org_id = ?`, a.Org.ID)
		o = overview()
		if !contains(o, `data-testid="overview-no-checks"`) || contains(o, "Every check is up") {
			t.Errorf("every check paused: want the overview to say none is enabled:\n%s", o)
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
