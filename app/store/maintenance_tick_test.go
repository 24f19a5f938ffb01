package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// componentStatuses reads the statuses of the tenant's two components.
func componentStatuses(t *testing.T, s *store.Store, m maintenanceTenant) (api, media string) {
	t.Helper()
	cs, err := s.Components(context.Background(), m.org.ID, m.page.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		switch c.ID {
		case m.api.ID:
			api = c.Status
		case m.media.ID:
			media = c.Status
		}
	}
	return api, media
}

func TestAdvanceMaintenance(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := seedMaintenanceTenant(t, s, "acme")
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := s.DB().ExecContext(ctx, rebind(s, query), args...); err != nil {
				t.Fatal(err)
			}
		}
		// API's only check is down; Media has no checks.
		err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateCheck(ctx, store.Check{OrgID: m.org.ID, PageID: m.page.ID, ComponentID: m.api.ID, Name: "api",
				URL: "https://api.example/", Spec: []byte(`{}`), Interval: time.Minute})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		exec(`UPDATE checks SET state = 'down' WHERE org_id = ?`, m.org.ID)

		// Sunday 29 March 2026, the day summer time begins: 08:00–10:00 in
		// Berlin is 06:00–08:00 UTC. A daily window on Media runs
		// 09:30–10:30 Berlin, 07:30–08:30 UTC that day.
		start, end := time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)
		oneOff, err := s.CreateMaintenance(ctx, m.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: m.page.ID, Name: "upgrade",
			Body: "New disks.", StartsAt: &start, EndsAt: &end, TimeZone: "Europe/Berlin", ComponentIDs: []int64{m.api.ID, m.media.ID}})
		if err != nil {
			t.Fatal(err)
		}
		daily, err := s.CreateMaintenance(ctx, m.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: m.page.ID, Name: "daily",
			Schedule: "30 9 * * *", Duration: time.Hour, TimeZone: "Europe/Berlin", ComponentIDs: []int64{m.media.ID}})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)
		exec(`UPDATE maintenance_windows SET created_at = ? WHERE id = ?`, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), oneOff.ID)
		exec(`UPDATE maintenance_windows SET created_at = ? WHERE id = ?`, t1, daily.ID)

		type tick struct {
			at          time.Time
			updates     int // written by this tick
			api, media  string
			oneOffState string
		}
		ticks := []tick{
			{t1, 2, "operational", "operational", "scheduled"},                                        // both announced
			{start.Add(10 * time.Second), 1, "under_maintenance", "under_maintenance", "in_progress"}, // the upgrade begins
			{start.Add(90 * time.Minute), 2, "under_maintenance", "under_maintenance", "in_progress"}, // the daily run begins; its next is announced
			{end.Add(5 * time.Second), 1, "major_outage", "under_maintenance", "completed"},           // API back to what its check says; the daily run still covers Media
			{end.Add(30*time.Minute + 5*time.Second), 1, "major_outage", "operational", "completed"},  // the daily run ends
		}
		for i, tk := range ticks {
			for replay := range 2 { // the second time, nothing is left to do
				changes, err := s.AdvanceMaintenance(ctx, tk.at, 24*time.Hour)
				if err != nil {
					t.Fatalf("tick %d: %v", i, err)
				}
				written := 0
				for _, c := range changes {
					written += c.Updates
					if c.PageSlug != "acme" {
						t.Errorf("tick %d: change for page %q, want acme", i, c.PageSlug)
					}
				}
				want := tk.updates
				if replay == 1 {
					want = 0
				}
				if written != want {
					t.Errorf("tick %d (replay %d): wrote %d updates, want %d", i, replay, written, want)
				}
			}
			api, media := componentStatuses(t, s, m)
			if api != tk.api || media != tk.media {
				t.Errorf("tick %d: components API %s, Media %s; want %s, %s", i, api, media, tk.api, tk.media)
			}
			w, err := s.MaintenanceWindow(ctx, m.org.ID, m.page.ID, oneOff.ID)
			if err != nil {
				t.Fatal(err)
			}
			if w.Status != tk.oneOffState {
				t.Errorf("tick %d: one-off status %s, want %s", i, w.Status, tk.oneOffState)
			}
		}

		ups, err := s.MaintenanceUpdates(ctx, m.org.ID, m.page.ID, oneOff.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range ups {
			b, _ := json.Marshal(u.Affected)
			got = append(got, u.Status+" "+u.DisplayAt.Format(time.RFC3339)+" "+string(b))
		}
		aff := func(oldAPI, newAPI, oldMedia, newMedia string) string {
			var list []store.MaintenanceAffected
			if oldAPI != "" {
				list = append(list, store.MaintenanceAffected{ComponentID: m.api.ID, OldStatus: oldAPI, NewStatus: newAPI})
			}
			if oldMedia != "" {
				list = append(list, store.MaintenanceAffected{ComponentID: m.media.ID, OldStatus: oldMedia, NewStatus: newMedia})
			}
			if list == nil {
				return "[]"
			}
			b, _ := json.Marshal(list)
			return string(b)
		}
		want := []string{
			"completed 2026-03-29T08:00:00Z " + aff("under_maintenance", "major_outage", "", ""),
			"in_progress 2026-03-29T06:00:00Z " + aff("operational", "under_maintenance", "operational", "under_maintenance"),
			"scheduled 2026-03-28T12:00:00Z []",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("the upgrade's updates (-want +got):\n%s", diff)
		}
		if all, err := s.MaintenanceUpdates(ctx, m.org.ID, m.page.ID, 0, 0); err != nil || len(all) != 7 {
			t.Errorf("page updates: got %d (%v), want 7 (3 of the upgrade, 4 of the daily window)", len(all), err)
		}
		other := seedMaintenanceTenant(t, s, "other")
		if ups, err := s.MaintenanceUpdates(ctx, other.org.ID, m.page.ID, 0, 0); err != nil || len(ups) != 0 {
			t.Errorf("another organisation reading the page's updates: got %d, %v; want none", len(ups), err)
		}
	})
}

// BenchmarkAdvanceMaintenance measures a maintenance tick with nothing to
// do over 500 windows (the housekeeper's cost every 15 s between runs).
func BenchmarkAdvanceMaintenance(b *testing.B) {
	storetest.BenchBackends(b, func(b *testing.B, s *store.Store) {
		ctx := context.Background()
		org, err := s.CreateOrg(ctx, "bench", "bench")
		if err != nil {
			b.Fatal(err)
		}
		var page store.Page
		var comp store.Component
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "bench", Title: "Bench", TimeZone: "UTC"}); err != nil {
				return err
			}
			comp, err = tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: page.ID, Name: "API"})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now().UTC()
		for i := range 500 {
			w := store.MaintenanceWindow{PageID: page.ID, Name: "w" + itoa(int64(i)), TimeZone: "Europe/Berlin", ComponentIDs: []int64{comp.ID}}
			switch i % 3 {
			case 0:
				w.Schedule, w.Duration = "0 8 * * THU", 2*time.Hour
			case 1:
				w.Schedule, w.Duration = "30 2 * * *", time.Hour
			default:
				start := now.Add(time.Duration(i) * time.Hour)
				end := start.Add(time.Hour)
				w.StartsAt, w.EndsAt = &start, &end
			}
			if _, err := s.CreateMaintenance(ctx, org.ID, store.CLIActor(), w); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.AdvanceMaintenance(ctx, now, 24*time.Hour); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			changes, err := s.AdvanceMaintenance(ctx, now, 24*time.Hour)
			if err != nil || len(changes) != 0 {
				b.Fatalf("steady tick: %d changes, %v", len(changes), err)
			}
		}
	})
}
