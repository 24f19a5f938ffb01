package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestChecksForAggregation reads back every field of a check the
// aggregator judges by, beside its component, page and state change, on
// both backends; the spec and the row's times are left empty, and a check
// asked for under another organisation is absent.
func TestChecksForAggregation(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		changed := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		var want store.Check
		var other int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			org, err := tx.CreateOrg(ctx, "ACME", "acme")
			if err != nil {
				return err
			}
			p, err := tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "acme", Title: "ACME", TimeZone: "UTC"})
			if err != nil {
				return err
			}
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: p.ID, Name: "Images"})
			if err != nil {
				return err
			}
			want, err = tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: p.ID, ComponentID: c.ID, Name: "cdn",
				URL: "https://img.example/", Spec: []byte(`{"tls":{"ca":"PEM"}}`), Regions: []string{"fra", "sin"},
				Interval: 45 * time.Second, Quorum: 2, ConfirmRounds: 3, Enabled: true})
			if err != nil {
				return err
			}
			o, err := tx.CreateOrg(ctx, "Other", "other")
			other = o.ID
			if err != nil {
				return err
			}
			return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: org.ID, ID: want.ID, State: "down", At: changed}})
		})
		if err != nil {
			t.Fatal(err)
		}
		var got, elsewhere map[int64]store.CheckInfo
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if got, err = tx.ChecksForAggregation(ctx, map[int64][]int64{want.OrgID: {want.ID}}); err != nil {
				return err
			}
			elsewhere, err = tx.ChecksForAggregation(ctx, map[int64][]int64{other: {want.ID}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want.Spec, want.CreatedAt, want.UpdatedAt, want.State = nil, time.Time{}, time.Time{}, "down"
		if diff := cmp.Diff(map[int64]store.CheckInfo{want.ID: {Check: want, StateChangedAt: &changed,
			ComponentName: "Images", ComponentStatus: "operational", PageSlug: "acme"}}, got); diff != "" {
			t.Errorf("checks for aggregation (-want +got):\n%s", diff)
		}
		if len(elsewhere) != 0 {
			t.Errorf("another organisation's ids gave %v, want none", elsewhere)
		}
	})
}

// TestChecksForAggregationSeesEveryWrite reads a check's info, changes one
// of the rows it comes from as the application does, and reads again, on
// both backends. On SQLite the reads after the first come from the store's
// cache unless the write moved aggregation_version (migration 0029), so a
// write without its trigger would be read back stale here. A transaction
// that read its own change and rolled back leaves nothing of it behind.
func TestChecksForAggregationSeesEveryWrite(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var page store.Page
		var comp store.Component
		var check store.Check
		err := s.InTx(ctx, func(tx *store.Tx) error {
			org, err := tx.CreateOrg(ctx, "ACME", "acme")
			if err != nil {
				return err
			}
			if page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "acme", Title: "ACME", TimeZone: "UTC"}); err != nil {
				return err
			}
			if comp, err = tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: page.ID, Name: "Images"}); err != nil {
				return err
			}
			check, err = tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: page.ID, ComponentID: comp.ID, Name: "cdn",
				URL: "https://img.example/", Regions: []string{"fra"}, Interval: 30 * time.Second, Quorum: 1, ConfirmRounds: 2})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		org := check.OrgID
		read := func() (store.CheckInfo, bool) {
			t.Helper()
			var got map[int64]store.CheckInfo
			err := s.InTx(ctx, func(tx *store.Tx) (err error) {
				got, err = tx.ChecksForAggregation(ctx, map[int64][]int64{org: {check.ID}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			ci, ok := got[check.ID]
			return ci, ok
		}
		want, _ := read()
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		var incidentID int64
		steps := []struct {
			name  string
			write func(tx *store.Tx) error
			moved func(ci *store.CheckInfo)
		}{
			{"check state", func(tx *store.Tx) error {
				return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: org, ID: check.ID, State: "down", At: at}})
			}, func(ci *store.CheckInfo) { ci.State, ci.StateChangedAt = "down", &at }},
			{"component status", func(tx *store.Tx) error {
				_, err := tx.SetComponentStatuses(ctx, []store.StateChange{{OrgID: org, ID: comp.ID, State: "major_outage", At: at}})
				return err
			}, func(ci *store.CheckInfo) { ci.ComponentStatus = "major_outage" }},
			{"automatic incident opened", func(tx *store.Tx) (err error) {
				incidentID, _, err = tx.ApplyIncidentChange(ctx, store.IncidentChange{OrgID: org, PageID: page.ID, ComponentID: comp.ID,
					CheckID: check.ID, Name: "Images down", Status: "investigating", Impact: "critical", At: at})
				return err
			}, func(ci *store.CheckInfo) { ci.IncidentOpen = true }},
			{"automatic incident resolved", func(tx *store.Tx) error {
				_, _, err := tx.ApplyIncidentChange(ctx, store.IncidentChange{OrgID: org, PageID: page.ID, ComponentID: comp.ID,
					IncidentID: incidentID, Status: store.IncidentResolved, Impact: "critical", At: at.Add(time.Minute)})
				return err
			}, func(ci *store.CheckInfo) { ci.IncidentOpen = false }},
			{"component renamed", func(tx *store.Tx) error {
				c := comp
				c.Name = "Pictures"
				return tx.UpdateComponent(ctx, c)
			}, func(ci *store.CheckInfo) { ci.ComponentName = "Pictures" }},
			{"page slug", func(tx *store.Tx) error {
				p := page
				p.Slug = "acme-status"
				return tx.UpdatePage(ctx, p)
			}, func(ci *store.CheckInfo) { ci.PageSlug = "acme-status" }},
			{"check configuration", func(tx *store.Tx) error {
				c := check
				c.Quorum, c.Regions = 2, []string{"fra", "sin"}
				return tx.UpdateCheckConfig(ctx, c)
			}, func(ci *store.CheckInfo) { ci.Quorum, ci.Regions = 2, []string{"fra", "sin"} }},
			{"check disabled", func(tx *store.Tx) error {
				_, err := tx.SetCheckEnabled(ctx, org, check.ID, false)
				return err
			}, func(ci *store.CheckInfo) { ci.Enabled = false }},
		}
		for _, st := range steps {
			if err := s.InTx(ctx, st.write); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			st.moved(&want)
			got, ok := read()
			if diff := cmp.Diff(want, got); !ok || diff != "" {
				t.Errorf("after %s (found %v), -want +got:\n%s", st.name, ok, diff)
			}
		}

		rollback := errors.New("roll back")
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetCheckStates(ctx, []store.StateChange{{OrgID: org, ID: check.ID, State: "up", At: at.Add(time.Hour)}}); err != nil {
				return err
			}
			seen, err := tx.ChecksForAggregation(ctx, map[int64][]int64{org: {check.ID}})
			if err != nil {
				return err
			}
			if seen[check.ID].State != "up" {
				t.Errorf("inside the transaction: state %q, want its own up", seen[check.ID].State)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		// The next committed change must be seen, not the rolled-back one
		// (no read in between, which would empty the cache either way).
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: org, ID: check.ID, State: "degraded", At: at.Add(2 * time.Hour)}})
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := read(); got.State != "degraded" {
			t.Errorf("after a rolled-back change and a committed one: state %q, want degraded", got.State)
		}

		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteCheck(ctx, org, check.ID) }); err != nil {
			t.Fatal(err)
		}
		if got, ok := read(); ok {
			t.Errorf("after the check's deletion: %+v, want none", got)
		}
	})
}
