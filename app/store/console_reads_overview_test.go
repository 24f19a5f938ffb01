package store_test

import (
	"context"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestOverviewReads: a down check with its latest problems, an open
// incident, an unhealthy region and recent results, read as the overview
// does; another organisation reads none of them.
func TestOverviewReads(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, _, check := seedOrgCheck(t, s, "a")
		other, _, _ := seedOrgCheck(t, s, "b")
		now := time.Now().UTC().Truncate(time.Second)
		problems := []byte(`[{"code":"timeout","severity":"critical","node":"","message":"no answer"}]`)
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.InsertResults(ctx, []store.ResultRow{
				{ID: "r1", OrgID: org, CheckID: check, Region: "fra", State: "down", CheckedAt: now.Add(-time.Minute), Problems: problems, ReceivedAt: now},
				{ID: "r0", OrgID: org, CheckID: check, Region: "fra", State: "up", CheckedAt: now.Add(-time.Hour), ReceivedAt: now},
			}); err != nil {
				return err
			}
			if _, err := tx.AdvanceLatest(ctx, []store.LatestWrite{{OrgID: org, CheckID: check, Region: "fra", State: "down",
				ResultID: "r1", CheckedAt: now.Add(-time.Minute), Problems: problems}}); err != nil {
				return err
			}
			if err := tx.SetCheckStates(ctx, []store.StateChange{{OrgID: org, ID: check, State: "down", At: now}}); err != nil {
				return err
			}
			_, err := tx.SetRegionHealth(ctx, org, "nyc", false, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, rebind(s, `INSERT INTO incidents (org_id, page_id, component_id, name, status)
			SELECT org_id, page_id, component_id, 'API down', 'investigating' FROM checks WHERE id = ?`), check); err != nil {
			t.Fatal(err)
		}

		failing, err := s.FailingChecks(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if len(failing) != 1 || failing[0].ID != check || failing[0].State != "down" || failing[0].Since == nil ||
			failing[0].ComponentName != "API" || string(failing[0].Problems["fra"]) != string(problems) {
			t.Errorf("failing checks: got %+v, want the down check with its fra problems", failing)
		}
		incs, err := s.OpenIncidentsBrief(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if len(incs) != 1 || incs[0].Name != "API down" || incs[0].PageTitle != "a" {
			t.Errorf("open incidents: got %+v", incs)
		}
		regions, err := s.RegionActivities(ctx, org, now.Add(-5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(regions) != 2 || regions[0].Region != "fra" || !regions[0].Healthy || regions[0].Recent != 1 ||
			regions[0].LastResult == nil || !regions[0].LastResult.Equal(now.Add(-time.Minute)) ||
			regions[1].Region != "nyc" || regions[1].Healthy || regions[1].Recent != 0 || regions[1].LastResult != nil {
			t.Errorf("regions: got %+v, want fra healthy with 1 recent result, nyc unhealthy without", regions)
		}

		for name, n := range map[string]func() (int, error){
			"failing":   func() (int, error) { l, err := s.FailingChecks(ctx, other); return len(l), err },
			"incidents": func() (int, error) { l, err := s.OpenIncidentsBrief(ctx, other); return len(l), err },
			"regions":   func() (int, error) { l, err := s.RegionActivities(ctx, other, now.Add(-time.Hour)); return len(l), err },
		} {
			if got, err := n(); err != nil || got != 0 {
				t.Errorf("other organisation's %s: got %d, %v; want none", name, got, err)
			}
		}
	})
}
