package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// maintenanceTenant is one organisation with a page and two components.
type maintenanceTenant struct {
	org        store.Org
	page       store.Page
	api, media store.Component
}

func seedMaintenanceTenant(t *testing.T, s *store.Store, slug string) maintenanceTenant {
	t.Helper()
	ctx := context.Background()
	var m maintenanceTenant
	err := s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if m.org, err = tx.CreateOrg(ctx, slug, slug); err != nil {
			return err
		}
		if m.page, err = tx.CreatePage(ctx, store.Page{OrgID: m.org.ID, Slug: slug, Title: slug, TimeZone: "Europe/Berlin"}); err != nil {
			return err
		}
		if m.api, err = tx.CreateComponent(ctx, store.Component{OrgID: m.org.ID, PageID: m.page.ID, Name: "API", Position: 1}); err != nil {
			return err
		}
		m.media, err = tx.CreateComponent(ctx, store.Component{OrgID: m.org.ID, PageID: m.page.ID, Name: "Media", Position: 2})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMaintenanceWritesAreScopedAndAudited(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedMaintenanceTenant(t, s, "a")
		b := seedMaintenanceTenant(t, s, "b")
		actor := store.CLIActor()
		start := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
		end := start.Add(2 * time.Hour)

		oneOff, err := s.CreateMaintenance(ctx, a.org.ID, actor, store.MaintenanceWindow{PageID: a.page.ID, Name: " Database upgrade ",
			Body: "We upgrade the *database*.", StartsAt: &start, EndsAt: &end, TimeZone: "Europe/Berlin",
			ComponentIDs: []int64{a.media.ID, a.api.ID, a.api.ID}})
		if err != nil {
			t.Fatal(err)
		}
		weekly, err := s.CreateMaintenance(ctx, a.org.ID, actor, store.MaintenanceWindow{PageID: a.page.ID, Name: "Weekly",
			Schedule: "0 8 * * THU", Duration: 2 * time.Hour, TimeZone: "Europe/Berlin", ComponentIDs: []int64{a.api.ID}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.MaintenanceWindow(ctx, a.org.ID, a.page.ID, oneOff.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Database upgrade" || got.Status != store.MaintenanceScheduled || got.Schedule != "" ||
			!got.StartsAt.Equal(start) || !got.EndsAt.Equal(end) || got.TimeZone != "Europe/Berlin" {
			t.Errorf("one-off as stored: got %+v", got)
		}
		if diff := cmp.Diff([]int64{a.api.ID, a.media.ID}, got.ComponentIDs); diff != "" {
			t.Errorf("components (-want +got):\n%s", diff)
		}
		list, err := s.MaintenanceWindows(ctx, a.org.ID, a.page.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != oneOff.ID || list[1].ID != weekly.ID {
			t.Errorf("list: got %+v, want the one-off then the weekly window (by name)", list)
		}

		// A recurring window becomes a one-off one; the status moves on.
		weekly.Schedule, weekly.Duration = "", 0
		weekly.StartsAt, weekly.EndsAt = &start, &end
		weekly.ComponentIDs = []int64{a.media.ID}
		weekly.Status = store.MaintenanceCompleted
		updated, err := s.UpdateMaintenance(ctx, a.org.ID, actor, weekly)
		if err != nil {
			t.Fatal(err)
		}
		if updated.Schedule != "" || updated.Duration != 0 || updated.StartsAt == nil || updated.Status != store.MaintenanceCompleted ||
			!cmp.Equal(updated.ComponentIDs, []int64{a.media.ID}) {
			t.Errorf("updated: got %+v", updated)
		}

		// Another organisation sees none of it.
		if _, err := s.MaintenanceWindow(ctx, b.org.ID, b.page.ID, oneOff.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reading A's window: got %v, want ErrNotFound", err)
		}
		if _, err := s.MaintenanceWindow(ctx, b.org.ID, a.page.ID, oneOff.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reading A's window through A's page id: got %v, want ErrNotFound", err)
		}
		if ws, err := s.MaintenanceWindows(ctx, b.org.ID, a.page.ID); err != nil || len(ws) != 0 {
			t.Errorf("B listing A's page: got %v, %v; want none", ws, err)
		}
		hijack := oneOff
		hijack.PageID = b.page.ID
		if _, err := s.UpdateMaintenance(ctx, b.org.ID, actor, hijack); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B updating A's window: got %v, want ErrNotFound", err)
		}
		if err := s.DeleteMaintenance(ctx, b.org.ID, actor, b.page.ID, oneOff.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B deleting A's window: got %v, want ErrNotFound", err)
		}
		if _, err := s.CreateMaintenance(ctx, b.org.ID, actor, store.MaintenanceWindow{PageID: b.page.ID, Name: "x",
			StartsAt: &start, EndsAt: &end, ComponentIDs: []int64{a.api.ID}}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B covering A's component: got %v, want ErrNotFound", err)
		}
		if _, err := s.CreateMaintenance(ctx, b.org.ID, actor, store.MaintenanceWindow{PageID: a.page.ID, Name: "x",
			StartsAt: &start, EndsAt: &end}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B writing on A's page: got %v, want ErrNotFound", err)
		}

		if err := s.DeleteMaintenance(ctx, a.org.ID, actor, a.page.ID, oneOff.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MaintenanceWindow(ctx, a.org.ID, a.page.ID, oneOff.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after delete: got %v, want ErrNotFound", err)
		}

		log, err := s.AuditLog(ctx, a.org.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action+" "+e.Target)
		}
		want := []string{"maintenance.delete maintenance " + itoa(oneOff.ID), "maintenance.update maintenance " + itoa(weekly.ID),
			"maintenance.create maintenance " + itoa(weekly.ID), "maintenance.create maintenance " + itoa(oneOff.ID)}
		if diff := cmp.Diff(want, actions); diff != "" {
			t.Errorf("audit log of A (-want +got):\n%s", diff)
		}
		if log, err := s.AuditLog(ctx, b.org.ID, 10); err != nil || len(log) != 0 {
			t.Errorf("audit log of B: got %v, %v; want nothing (its attempts all failed)", log, err)
		}
	})
}

func TestMaintenanceWritesRefuseBadWindows(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedMaintenanceTenant(t, s, "a")
		start := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
		end := start.Add(time.Hour)
		tests := []struct {
			name  string
			w     store.MaintenanceWindow
			field string
		}{
			{"no name", store.MaintenanceWindow{StartsAt: &start, EndsAt: &end}, "name"},
			{"neither form", store.MaintenanceWindow{Name: "x"}, "start"},
			{"both forms", store.MaintenanceWindow{Name: "x", Schedule: "0 8 * * *", Duration: time.Hour, StartsAt: &start, EndsAt: &end}, "schedule"},
			{"end before start", store.MaintenanceWindow{Name: "x", StartsAt: &end, EndsAt: &start}, "end"},
			{"no end", store.MaintenanceWindow{Name: "x", StartsAt: &start}, "end"},
			{"bad cron", store.MaintenanceWindow{Name: "x", Schedule: "every day", Duration: time.Hour}, "schedule"},
			{"no duration", store.MaintenanceWindow{Name: "x", Schedule: "0 8 * * *"}, "duration"},
			{"bad zone", store.MaintenanceWindow{Name: "x", Schedule: "0 8 * * *", Duration: time.Hour, TimeZone: "Europe/Bonn"}, "timezone"},
			{"bad status", store.MaintenanceWindow{Name: "x", StartsAt: &start, EndsAt: &end, Status: "investigating"}, "status"},
		}
		for _, tt := range tests {
			tt.w.PageID = a.page.ID
			_, err := s.CreateMaintenance(ctx, a.org.ID, store.CLIActor(), tt.w)
			var we *incident.WindowError
			if !errors.As(err, &we) || we.Field != tt.field {
				t.Errorf("%s: got %v, want a *incident.WindowError about %q", tt.name, err, tt.field)
			}
		}
		ok := store.MaintenanceWindow{PageID: a.page.ID, Name: "x", StartsAt: &start, EndsAt: &end}
		if _, err := s.CreateMaintenance(ctx, a.org.ID, store.CLIActor(), ok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateMaintenance(ctx, a.org.ID, store.CLIActor(), ok); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same name twice: got %v, want ErrConflict", err)
		}
		if ws, err := s.MaintenanceWindows(ctx, a.org.ID, a.page.ID); err != nil || len(ws) != 1 {
			t.Errorf("after the refusals: got %d windows, %v; want 1", len(ws), err)
		}
	})
}

func TestMovedOneOffWindowIsScheduledAgain(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedMaintenanceTenant(t, s, "a")
		start := time.Date(2026, 10, 25, 7, 0, 0, 0, time.UTC)
		end := start.Add(time.Hour)
		w, err := s.CreateMaintenance(ctx, a.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: a.page.ID, Name: "x",
			StartsAt: &start, EndsAt: &end, Status: store.MaintenanceCompleted})
		if err != nil {
			t.Fatal(err)
		}
		w.Body = "Only the text changes."
		w.Status = ""
		if got, err := s.UpdateMaintenance(ctx, a.org.ID, store.CLIActor(), w); err != nil || got.Status != store.MaintenanceCompleted {
			t.Errorf("body edit: got status %q (%v), want completed kept", got.Status, err)
		}
		later := end.Add(24 * time.Hour)
		w.EndsAt = &later
		if got, err := s.UpdateMaintenance(ctx, a.org.ID, store.CLIActor(), w); err != nil || got.Status != store.MaintenanceScheduled {
			t.Errorf("moved end: got status %q (%v), want scheduled", got.Status, err)
		}
	})
}

// A running window that is edited or deleted gives its components back at
// once; one that gains a component puts it under maintenance.
func TestChangingARunningWindowSettlesComponents(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := seedMaintenanceTenant(t, s, "acme")
		start := time.Now().UTC().Add(-time.Hour)
		end := start.Add(3 * time.Hour)
		w, err := s.CreateMaintenance(ctx, m.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: m.page.ID, Name: "now",
			StartsAt: &start, EndsAt: &end, ComponentIDs: []int64{m.api.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AdvanceMaintenance(ctx, time.Now(), time.Hour); err != nil {
			t.Fatal(err)
		}
		if api, media := componentStatuses(t, s, m); api != "under_maintenance" || media != "operational" {
			t.Fatalf("running: API %s, Media %s", api, media)
		}
		w.ComponentIDs = []int64{m.media.ID}
		if _, err := s.UpdateMaintenance(ctx, m.org.ID, store.CLIActor(), w); err != nil {
			t.Fatal(err)
		}
		if api, media := componentStatuses(t, s, m); api != "operational" || media != "under_maintenance" {
			t.Errorf("after moving the window to Media: API %s, Media %s; want operational, under_maintenance", api, media)
		}
		if err := s.DeleteMaintenance(ctx, m.org.ID, store.CLIActor(), m.page.ID, w.ID); err != nil {
			t.Fatal(err)
		}
		if api, media := componentStatuses(t, s, m); api != "operational" || media != "operational" {
			t.Errorf("after deleting the window: API %s, Media %s; want both operational", api, media)
		}
	})
}
