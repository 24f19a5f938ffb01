package public_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
)

// publicFixture is a seeded status page.
type publicFixture struct {
	org        store.Org
	page       store.Page
	groupID    int64
	components []store.Component
	checks     []int64
	incidents  []int64 // incidents[0] is unresolved
}

type fixtureOptions struct {
	slug   string
	title  string // default "ACME status"
	domain string
	// domainPending leaves the domain unverified.
	domainPending bool
	components    int
	incidents     int
	days          int
}

// seedPublicPage creates an organisation with one page: components (the
// second half in a group), one disabled check each, daily rollups, incidents
// (the first unresolved, the others resolved) and a one-off maintenance.
func seedPublicPage(t testing.TB, st *store.Store, o fixtureOptions) publicFixture {
	t.Helper()
	ctx := context.Background()
	if o.slug == "" {
		o.slug = "acme"
	}
	if o.title == "" {
		o.title = "ACME status"
	}
	org, err := st.CreateOrg(ctx, "Org "+o.slug, "org-"+o.slug)
	if err != nil {
		t.Fatal(err)
	}
	f := publicFixture{org: org}
	now := time.Now().UTC()
	err = st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if f.page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: o.slug, Title: o.title, Domain: o.domain, TimeZone: "Europe/Berlin"}); err != nil {
			return err
		}
		if o.domain != "" && !o.domainPending { // as if its owner had proven it
			if err := tx.MarkDomainVerified(ctx, org.ID, f.page.ID, o.domain, now); err != nil {
				return err
			}
		}
		g, err := tx.CreateComponentGroup(ctx, store.ComponentGroup{OrgID: org.ID, PageID: f.page.ID, Name: "Backend", Position: 10})
		if err != nil {
			return err
		}
		f.groupID = g.ID
		for i := range o.components {
			c := store.Component{OrgID: org.ID, PageID: f.page.ID, Name: fmt.Sprintf("Component %02d", i+1), Position: i}
			if i == 0 {
				c.Name, c.Description = "Media", "Images and downloads"
			}
			if i >= o.components/2 && o.components > 1 {
				c.GroupID = &g.ID
			}
			if c, err = tx.CreateComponent(ctx, c); err != nil {
				return err
			}
			f.components = append(f.components, c)
			chk, err := tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: f.page.ID, ComponentID: c.ID, Name: c.Name + " check",
				URL: "https://example.invalid/" + fmt.Sprint(i), Spec: []byte(`{}`), Regions: []string{"local"}, Interval: time.Minute, ConfirmRounds: 2})
			if err != nil {
				return err
			}
			if _, err := tx.SetCheckEnabled(ctx, org.ID, chk.ID, false); err != nil {
				return err
			}
			f.checks = append(f.checks, chk.ID)
		}
		start, end := now.Add(72*time.Hour), now.Add(74*time.Hour)
		_, err = tx.CreateMaintenanceWindow(ctx, store.MaintenanceWindow{OrgID: org.ID, PageID: f.page.ID, Name: "Database upgrade",
			Body: "We upgrade the **database**.", TimeZone: "UTC", StartsAt: &start, EndsAt: &end, ComponentIDs: []int64{f.components[0].ID}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var rollups []store.Rollup
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for i, id := range f.checks {
		for d := range o.days {
			r := store.Rollup{OrgID: org.ID, CheckID: id, Day: today.AddDate(0, 0, -d), Total: 1440, Up: 1440}
			if (d+i)%17 == 3 {
				r.Up, r.Down = 1400, 40
			}
			rollups = append(rollups, r)
		}
	}
	if err := st.PutRollups(ctx, rollups); err != nil {
		t.Fatal(err)
	}
	for i := range o.incidents {
		started := now.Add(-time.Duration(i*5+1) * time.Hour)
		rec := store.IncidentRecord{OrgID: org.ID, PageID: f.page.ID, Name: fmt.Sprintf("Incident %d", i+1), Impact: "minor",
			StartedAt: started, Components: []store.AffectedComponent{{ComponentID: f.components[i%len(f.components)].ID,
				OldStatus: incident.Operational, NewStatus: incident.DegradedPerformance}},
			Updates: []store.UpdateRecord{{Status: store.IncidentInvestigating, Body: "We are looking into *slow* responses.", DisplayAt: started}}}
		if i == 0 {
			rec.Name, rec.Status, rec.Impact = "Image CDN errors", store.IncidentIdentified, "major"
			rec.Updates = append(rec.Updates, store.UpdateRecord{Status: store.IncidentIdentified, Body: "A CDN node serves an **expired** certificate.", DisplayAt: started.Add(10 * time.Minute)})
		} else {
			resolved := started.Add(30 * time.Minute)
			rec.Status, rec.ResolvedAt = store.IncidentResolved, &resolved
			rec.Updates = append(rec.Updates, store.UpdateRecord{Status: store.IncidentResolved, Body: "Resolved.", DisplayAt: resolved})
		}
		id, err := st.InsertIncident(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		f.incidents = append(f.incidents, id)
	}
	if len(f.components) > 0 && o.incidents > 0 {
		if err := st.SetComponentStatus(ctx, org.ID, f.components[0].ID, incident.PartialOutage, now); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestSeedBenchPage seeds the benchmark page of deploy/bench/statuspage.sh
// and deploy/bench/public-limit.sh into the SQLite database named by
// PHAROS_BENCH_SEED (skipped otherwise), under the slug "bench":
// PHAROS_BENCH_COMPONENTS components (default 20), PHAROS_BENCH_DAYS days
// of rollups (default 90) and 5 incidents.
func TestSeedBenchPage(t *testing.T) {
	t.Parallel()
	url := os.Getenv("PHAROS_BENCH_SEED")
	if url == "" {
		t.Skip("PHAROS_BENCH_SEED is not set: only deploy/bench/statuspage.sh runs this")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedPublicPage(t, st, fixtureOptions{slug: "bench", incidents: 5,
		components: envInt(t, "PHAROS_BENCH_COMPONENTS", 20), days: envInt(t, "PHAROS_BENCH_DAYS", 90)})
}

// lockComponents holds the components table of st, a PostgreSQL store, in
// ACCESS EXCLUSIVE mode for d, so that every page load waits for it: a
// database slower than the page's load budget. It returns at once; the
// lock goes after d, and the test waits for that before it ends.
func lockComponents(t *testing.T, st *store.Store, d time.Duration) {
	t.Helper()
	tx, err := st.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`LOCK TABLE components IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	time.AfterFunc(d, func() { released <- tx.Commit() })
	t.Cleanup(func() {
		if err := <-released; err != nil {
			t.Errorf("release the lock on components: %v", err)
		}
	})
}
