package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

type publicSeed struct {
	orgID, pageID, groupID int64
	comps                  []int64
	checks                 []int64
}

func seedPublic(t *testing.T, s *store.Store, slug string) publicSeed {
	t.Helper()
	ctx := context.Background()
	org, err := s.CreateOrg(ctx, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	p := publicSeed{orgID: org.ID}
	err = s.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: slug, Title: slug, TimeZone: "UTC"})
		if err != nil {
			return err
		}
		p.pageID = page.ID
		g, err := tx.CreateComponentGroup(ctx, store.ComponentGroup{OrgID: org.ID, PageID: page.ID, Name: "G", Position: 1})
		if err != nil {
			return err
		}
		p.groupID = g.ID
		for i, name := range []string{"B", "A"} {
			c := store.Component{OrgID: org.ID, PageID: page.ID, Name: name, Position: 2 - i}
			if i == 1 {
				c.GroupID = &g.ID
			}
			if c, err = tx.CreateComponent(ctx, c); err != nil {
				return err
			}
			p.comps = append(p.comps, c.ID)
			for j := range 2 {
				chk, err := tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: page.ID, ComponentID: c.ID, Name: name + string(rune('0'+j)),
					URL: "https://example.org", Spec: []byte(`{}`), Regions: []string{"local"}, Interval: time.Minute})
				if err != nil {
					return err
				}
				p.checks = append(p.checks, chk.ID)
			}
		}
		start, end := time.Now().Add(time.Hour), time.Now().Add(2*time.Hour)
		_, err = tx.CreateMaintenanceWindow(ctx, store.MaintenanceWindow{OrgID: org.ID, PageID: page.ID, Name: "M", TimeZone: "UTC",
			StartsAt: &start, EndsAt: &end, ComponentIDs: []int64{p.comps[0]}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublicReads(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		b := seedPublic(t, s, "b")

		comps, err := s.PublicComponents(ctx, a.orgID, a.pageID)
		if err != nil || len(comps) != 2 || comps[0].Name != "A" || comps[0].GroupID == nil || comps[0].StartDate != nil {
			t.Fatalf("PublicComponents = %+v, %v; want A (grouped) then B", comps, err)
		}
		if got, err := s.PublicComponents(ctx, b.orgID, a.pageID); err != nil || len(got) != 0 {
			t.Errorf("another organisation's components: got %d, %v; want none", len(got), err)
		}
		groups, err := s.PublicGroups(ctx, a.orgID, a.pageID)
		if err != nil || len(groups) != 1 || groups[0].Name != "G" || groups[0].CreatedAt.IsZero() {
			t.Errorf("PublicGroups = %+v, %v", groups, err)
		}

		day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		var rollups []store.Rollup
		for _, id := range a.checks[:2] { // both checks of component B
			rollups = append(rollups, store.Rollup{OrgID: a.orgID, CheckID: id, Day: day, Total: 100, Up: 90, Down: 10},
				store.Rollup{OrgID: a.orgID, CheckID: id, Day: day.AddDate(0, 0, -100), Total: 1, Up: 1})
		}
		if err := s.PutRollups(ctx, rollups); err != nil {
			t.Fatal(err)
		}
		days, err := s.ComponentDays(ctx, a.orgID, a.pageID, day.AddDate(0, 0, -89), day)
		if err != nil {
			t.Fatal(err)
		}
		got := days[a.comps[0]]
		if len(got) != 1 || !got[0].Day.Equal(day) || got[0].Total != 200 || got[0].Down != 20 || got[0].Uptime() != 90 {
			t.Errorf("ComponentDays = %+v; want one day summing both checks (200 results, 20 down)", got)
		}

		now := time.Now().UTC().Truncate(time.Second)
		resolved := now.Add(-time.Hour)
		old, err := s.InsertIncident(ctx, store.IncidentRecord{OrgID: a.orgID, PageID: a.pageID, Name: "old", Status: store.IncidentResolved,
			Impact: "minor", StartedAt: now.Add(-2 * time.Hour), ResolvedAt: &resolved,
			Updates:    []store.UpdateRecord{{Status: "investigating", Body: "x", DisplayAt: now.Add(-2 * time.Hour)}, {Status: "resolved", Body: "y", DisplayAt: resolved}},
			Components: []store.AffectedComponent{{ComponentID: a.comps[0], OldStatus: "operational", NewStatus: "major_outage"}}})
		if err != nil {
			t.Fatal(err)
		}
		open, err := s.InsertIncident(ctx, store.IncidentRecord{OrgID: a.orgID, PageID: a.pageID, Name: "open", Status: store.IncidentInvestigating,
			Impact: "major", StartedAt: now, Updates: []store.UpdateRecord{{Status: "investigating", Body: "z", DisplayAt: now}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.InsertIncident(ctx, store.IncidentRecord{OrgID: b.orgID, PageID: b.pageID, Name: "b's", Status: "investigating",
			Impact: "minor", StartedAt: now, Components: []store.AffectedComponent{{ComponentID: a.comps[0]}}}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("linking b's incident to a's component: got %v, want ErrNotFound", err)
		}

		all, err := s.PublicIncidents(ctx, a.orgID, a.pageID, store.IncidentFilter{})
		if err != nil || len(all) != 2 || all[0].ID != open || all[1].ID != old {
			t.Fatalf("PublicIncidents = %+v, %v; want open then old", all, err)
		}
		o := all[1]
		if len(o.Updates) != 2 || o.Updates[0].Status != "resolved" || len(o.Components) != 1 || o.Components[0].Name != "B" ||
			len(o.Updates[0].Affected) != 1 || len(o.Updates[1].Affected) != 0 || o.ResolvedAt == nil || !o.Updates[0].DeliverNotifications {
			t.Errorf("old incident = %+v; want 2 updates newest first, B affected by the last update", o)
		}
		if un, _ := s.PublicIncidents(ctx, a.orgID, a.pageID, store.IncidentFilter{Unresolved: true}); len(un) != 1 || un[0].ID != open {
			t.Errorf("unresolved = %+v, want only the open one", un)
		}
		if since, _ := s.PublicIncidents(ctx, a.orgID, a.pageID, store.IncidentFilter{OpenSince: now.Add(-30 * time.Minute)}); len(since) != 1 {
			t.Errorf("open since 30 min ago = %d incidents, want 1", len(since))
		}
		if _, err := s.PublicIncident(ctx, b.orgID, b.pageID, old); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a's incident through b: got %v, want ErrNotFound", err)
		}
		if before, err := s.IncidentsStartedBefore(ctx, a.orgID, a.pageID, now.Add(-time.Hour)); err != nil || !before {
			t.Errorf("IncidentsStartedBefore = %v, %v; want true", before, err)
		}
		ms, err := s.PublicMaintenance(ctx, a.orgID, a.pageID)
		if err != nil || len(ms) != 1 || len(ms[0].ComponentIDs) != 1 || ms[0].StartsAt == nil {
			t.Errorf("PublicMaintenance = %+v, %v", ms, err)
		}
	})
}
