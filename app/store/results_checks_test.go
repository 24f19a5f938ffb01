package store_test

import (
	"context"
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
