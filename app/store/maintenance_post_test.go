package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestPostMaintenanceUpdate(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := seedMaintenanceTenant(t, s, "acme")
		other := seedMaintenanceTenant(t, s, "other")
		actor := store.CLIActor()
		start, end := time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)
		w, err := s.CreateMaintenance(ctx, m.org.ID, actor, store.MaintenanceWindow{PageID: m.page.ID, Name: "upgrade",
			StartsAt: &start, EndsAt: &end, TimeZone: "Europe/Berlin", ComponentIDs: []int64{m.api.ID, m.media.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE maintenance_windows SET created_at = ? WHERE id = ?`),
			start.Add(-48*time.Hour), w.ID); err != nil {
			t.Fatal(err)
		}
		post := func(at time.Time, status, body string) (store.MaintenanceUpdate, error) {
			return s.PostMaintenanceUpdate(ctx, m.org.ID, actor, m.page.ID, w.ID, status, body, at)
		}
		refused := func(what string, err error) {
			t.Helper()
			var we *incident.WindowError
			if !errors.As(err, &we) || we.Field != "status" {
				t.Errorf("%s: got %v, want a refusal about the status", what, err)
			}
		}
		tick := func(at time.Time, want int) {
			t.Helper()
			changes, err := s.AdvanceMaintenance(ctx, at, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range changes {
				n += c.Updates
			}
			if n != want {
				t.Errorf("tick at %s: wrote %d updates, want %d", at.Format(time.RFC3339), n, want)
			}
		}
		count := func() int {
			ups, err := s.MaintenanceUpdates(ctx, m.org.ID, m.page.ID, w.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			return len(ups)
		}

		u, err := post(start.Add(-time.Hour), "scheduled", "We replace the disks of the database servers.")
		if err != nil || u.Body != "We replace the disks of the database servers." || !u.OccurrenceStart.Equal(start) {
			t.Fatalf("announcement: got %+v, %v", u, err)
		}
		tick(start.Add(-time.Hour), 0) // announced already
		_, err = post(start.Add(-time.Hour), "in_progress", "")
		refused("starting before the start", err)
		_, err = post(start.Add(-time.Hour), "investigating", "")
		refused("an incident status", err)

		tick(start.Add(time.Minute), 1)
		if api, media := componentStatuses(t, s, m); api != "under_maintenance" || media != "under_maintenance" {
			t.Errorf("in progress: components %s, %s", api, media)
		}
		if u, err = post(start.Add(2*time.Minute), "in_progress", "The first server is done."); err != nil || u.Body != "The first server is done." {
			t.Errorf("rewording the start: got %+v, %v", u, err)
		}
		if u, err = post(start.Add(20*time.Minute), "verifying", ""); err != nil || u.Body == "" {
			t.Errorf("verifying: got %+v, %v", u, err)
		}
		tick(start.Add(21*time.Minute), 0)
		if u, err = post(start.Add(30*time.Minute), "completed", "Done early."); err != nil || len(u.Affected) != 2 {
			t.Errorf("completed early: got %+v, %v; want both components given back", u, err)
		}
		if api, media := componentStatuses(t, s, m); api != "operational" || media != "operational" {
			t.Errorf("completed early: components %s, %s; want operational", api, media)
		}
		tick(start.Add(31*time.Minute), 0)
		tick(end.Add(time.Minute), 0)
		if api, _ := componentStatuses(t, s, m); api != "operational" {
			t.Errorf("after the planned end: API %s", api)
		}
		if got, err := s.MaintenanceWindow(ctx, m.org.ID, m.page.ID, w.ID); err != nil || got.Status != "completed" {
			t.Errorf("window: got %q, %v; want completed", got.Status, err)
		}
		if n := count(); n != 4 {
			t.Errorf("updates: got %d, want 4 (scheduled, in_progress, verifying, completed)", n)
		}
		_, err = post(end.Add(time.Hour), "in_progress", "")
		refused("a step after completion", err)

		if _, err := s.PostMaintenanceUpdate(ctx, other.org.ID, actor, other.page.ID, w.ID, "completed", "", start); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organisation: got %v, want ErrNotFound", err)
		}
		weekly, err := s.CreateMaintenance(ctx, m.org.ID, actor, store.MaintenanceWindow{PageID: m.page.ID, Name: "weekly",
			Schedule: "0 8 * * SUN", Duration: time.Hour, TimeZone: "Europe/Berlin"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.PostMaintenanceUpdate(ctx, m.org.ID, actor, m.page.ID, weekly.ID, "completed", "", start.Add(10*time.Minute))
		refused("completing a recurring window", err)

		log, err := s.AuditLog(ctx, m.org.ID, 20)
		if err != nil {
			t.Fatal(err)
		}
		posted := 0
		for _, e := range log {
			if e.Action == "maintenance.update_posted" {
				posted++
			}
		}
		if posted != 4 {
			t.Errorf("audit: %d maintenance.update_posted rows, want 4", posted)
		}
	})
}
