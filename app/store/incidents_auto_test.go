package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestAutomaticIncidentPerComponent: a component has at most one open
// automatic incident; a second opening reports ErrConflict and leaves the
// transaction usable, so the caller can join the open one.
func TestAutomaticIncidentPerComponent(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, checkID := storetest.SeedCheck(t, s)
		check, err := s.Check(ctx, orgID, checkID)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		open := store.IncidentChange{OrgID: orgID, PageID: check.PageID, ComponentID: check.ComponentID, CheckID: checkID,
			Name: "API unavailable", Status: store.IncidentInvestigating, Impact: "critical", Draft: true,
			Body: "api.example cannot be reached.", Technical: "`connection_failed` on 10.0.0.5:443", AutoState: `{"checks":[]}`,
			OldComponentStatus: "operational", NewComponentStatus: "major_outage", Alert: true, At: at}
		var first int64
		err = s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if first, _, err = tx.ApplyIncidentChange(ctx, open); err != nil {
				return err
			}
			if _, _, err := tx.ApplyIncidentChange(ctx, open); !errors.Is(err, store.ErrConflict) {
				t.Errorf("second opening: got %v, want ErrConflict", err)
			}
			got, err := tx.OpenAutomaticIncidents(ctx, map[int64][]int64{orgID: {check.ComponentID}})
			if err != nil {
				return err // the transaction must still work
			}
			in := got[check.ComponentID]
			if in.ID != first || in.CheckID != checkID || !in.Draft || in.AutoState != open.AutoState || in.Impact != "critical" {
				t.Errorf("open incident: got %+v, want id %d of check %d, draft, with its state", in, first, checkID)
			}
			return tx.SetIncidentAutoState(ctx, orgID, first, `{"checks":[{"id":1}]}`)
		})
		if err != nil {
			t.Fatal(err)
		}
		console, err := s.PublicIncidents(ctx, orgID, check.PageID, store.IncidentFilter{Console: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(console) != 1 || len(console[0].Updates) != 1 || console[0].Updates[0].Technical != open.Technical {
			t.Fatalf("console incidents: got %+v, want one draft with its technical detail", console)
		}
		public, err := s.PublicIncidents(ctx, orgID, check.PageID, store.IncidentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(public) != 0 {
			t.Errorf("public incidents: got %d, want 0 (a draft)", len(public))
		}
		// Resolving frees the component for a new incident; an update with
		// no name keeps the title.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if _, _, err := tx.ApplyIncidentChange(ctx, store.IncidentChange{OrgID: orgID, ComponentID: check.ComponentID,
				IncidentID: first, Status: store.IncidentResolved, Impact: "critical", Body: "API is working normally again.",
				At: at.Add(time.Minute)}); err != nil {
				return err
			}
			open.Draft = false
			_, _, err := tx.ApplyIncidentChange(ctx, open)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		console, err = s.PublicIncidents(ctx, orgID, check.PageID, store.IncidentFilter{Console: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(console) != 2 {
			t.Fatalf("incidents after a resolution and a new outage: got %d, want 2", len(console))
		}
		for _, in := range console {
			if in.Name != "API unavailable" {
				t.Errorf("incident %d: title %q, want kept", in.ID, in.Name)
			}
		}
	})
}

func TestPageIncidentSettingsAndEnabledChecks(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, checkID := storetest.SeedCheck(t, s)
		check, err := s.Check(ctx, orgID, checkID)
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			settings, err := tx.PageIncidentSettings(ctx, map[int64][]int64{orgID: {check.PageID}, orgID + 1: {check.PageID}})
			if err != nil {
				return err
			}
			if got := settings[check.PageID]; got.AutoIncidents != store.AutoPublish || got.PublicDetail != store.DetailPlain {
				t.Errorf("settings: got %+v, want the defaults publish and plain", got)
			}
			enabled, err := tx.EnabledChecks(ctx, map[int64][]int64{orgID: {checkID, checkID + 1000}, orgID + 1: {checkID}})
			if err != nil {
				return err
			}
			if !enabled[checkID] || len(enabled) != 1 {
				t.Errorf("enabled checks: got %v, want only %d (not a missing id, not another organisation's)", enabled, checkID)
			}
			if _, err := tx.SetCheckEnabled(ctx, orgID, checkID, false); err != nil {
				return err
			}
			if enabled, err = tx.EnabledChecks(ctx, map[int64][]int64{orgID: {checkID}}); err != nil || len(enabled) != 0 {
				t.Errorf("a disabled check: got %v, %v; want none", enabled, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestMisconfiguredComponentIsUnjudged: a component whose only check the
// probes cannot carry out has never really been checked, so the page says
// "No data yet" instead of a status; one judged check changes that.
func TestMisconfiguredComponentIsUnjudged(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgID, checkID := storetest.SeedCheck(t, s)
		check, err := s.Check(ctx, orgID, checkID)
		if err != nil {
			t.Fatal(err)
		}
		set := func(state string) map[int64]bool {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: orgID, ID: checkID, State: state, At: time.Now()}})
			})
			if err != nil {
				t.Fatal(err)
			}
			unjudged, err := s.UnjudgedComponents(ctx, orgID, check.PageID)
			if err != nil {
				t.Fatal(err)
			}
			return unjudged
		}
		if !set("misconfigured")[check.ComponentID] {
			t.Errorf("component of a misconfigured check: judged, want unjudged (No data yet)")
		}
		if set("down")[check.ComponentID] {
			t.Errorf("component of a down check: unjudged, want judged")
		}
	})
}
