package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestAdvanceLatest checks the streak rule, late writes, several writes of
// one key in one call (waves), new keys next to existing ones, and the
// whole-check rows returned, on both backends.
func TestAdvanceLatest(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		org, check := storetest.SeedCheck(t, s)
		base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		w := func(region, node, state string, minute int) store.LatestWrite {
			return store.LatestWrite{OrgID: org, CheckID: check, Region: region, Node: node, State: state,
				ResultID: fmt.Sprintf("%s-%s-%d", region, node, minute), CheckedAt: base.Add(time.Duration(minute) * time.Minute),
				Problems: []byte(`[]`)}
		}
		type got struct {
			Region, State string
			Streak        int
			Minute        int
		}
		advance := func(writes ...store.LatestWrite) []got {
			t.Helper()
			var out []got
			err := s.InTx(context.Background(), func(tx *store.Tx) error {
				after, err := tx.AdvanceLatest(context.Background(), writes)
				for _, l := range after.Whole[check] {
					out = append(out, got{l.Region, l.State, l.Streak, int(l.CheckedAt.Sub(base) / time.Minute)})
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		streak := func(region, node string) int {
			t.Helper()
			var n int
			err := s.InTx(context.Background(), func(tx *store.Tx) error {
				rows, err := tx.LatestForChecks(context.Background(), map[int64][]int64{org: {check}})
				for _, l := range rows {
					if l.Region == region && l.Node == node {
						n = l.Streak
					}
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		// New keys: streak 1; fra written twice in one call.
		res := advance(w("fra", "", "up", 0), w("fra", "n1", "up", 0), w("fra", "", "up", 1), w("iad", "", "down", 0))
		if diff := cmp.Diff([]got{{"fra", "up", 2, 1}, {"iad", "down", 1, 0}}, res); diff != "" {
			t.Errorf("first call (-want +got):\n%s", diff)
		}
		// A change; sin is new next to existing keys; iad untouched but
		// returned.
		res = advance(w("fra", "", "down", 3), w("fra", "n1", "up", 1), w("sin", "", "up", 3))
		if diff := cmp.Diff([]got{{"fra", "down", 1, 3}, {"iad", "down", 1, 0}, {"sin", "up", 1, 3}}, res); diff != "" {
			t.Errorf("second call (-want +got):\n%s", diff)
		}
		if n := streak("fra", "n1"); n != 2 {
			t.Errorf("streak of fra/n1 = %d, want 2", n)
		}
		// A late write that must not move fra back, then two repeats.
		res = advance(w("fra", "", "up", 2), w("fra", "", "down", 4), w("fra", "", "down", 5), w("iad", "", "down", 5))
		if diff := cmp.Diff([]got{{"fra", "down", 3, 5}, {"iad", "down", 2, 5}, {"sin", "up", 1, 3}}, res); diff != "" {
			t.Errorf("third call (-want +got):\n%s", diff)
		}
	})
}

// TestAdvanceLatestAfterWholeRead runs a batch's sequence in one
// transaction: WholeLatestForChecks first (which keeps the check's
// whole-check rows for AdvanceLatest), then AdvanceLatest twice. The
// second advance must start from what the first wrote, node rows
// included, not from what the read kept: fra's streak goes 1 → 2 → 3, and
// iad, new in the first advance and left alone by the second, is returned
// as the first wrote it.
func TestAdvanceLatestAfterWholeRead(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		w := func(region, node string, minute int) store.LatestWrite {
			return store.LatestWrite{OrgID: org, CheckID: check, Region: region, Node: node, State: "up",
				ResultID: fmt.Sprintf("%s-%s-%d", region, node, minute), CheckedAt: base.Add(time.Duration(minute) * time.Minute)}
		}
		ids := map[int64][]int64{org: {check}}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AdvanceLatest(ctx, []store.LatestWrite{w("fra", "", 0), w("fra", "n1", 0)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		type row struct {
			Region         string
			Streak, Minute int
		}
		var got [][]row
		var streaks []int
		err := s.InTx(ctx, func(tx *store.Tx) error {
			whole, err := tx.WholeLatestForChecks(ctx, ids)
			if err != nil {
				return err
			}
			if len(whole) != 1 || whole[0].Node != "" || whole[0].Streak != 1 {
				return fmt.Errorf("whole rows before = %+v, want fra's alone with streak 1", whole)
			}
			for _, writes := range [][]store.LatestWrite{
				{w("fra", "", 1), w("fra", "n1", 1), w("iad", "", 1)},
				{w("fra", "", 2), w("fra", "n1", 2)},
			} {
				after, err := tx.AdvanceLatest(ctx, writes)
				if err != nil {
					return err
				}
				var rows []row
				for _, l := range after.Whole[check] {
					rows = append(rows, row{l.Region, l.Streak, int(l.CheckedAt.Sub(base) / time.Minute)})
				}
				got = append(got, rows)
			}
			rows, err := tx.LatestForChecks(ctx, ids)
			for _, l := range rows {
				if l.Node == "n1" {
					streaks = append(streaks, l.Streak)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := [][]row{{{"fra", 2, 1}, {"iad", 1, 1}}, {{"fra", 3, 2}, {"iad", 1, 1}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("whole rows after each advance (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{3}, streaks); diff != "" {
			t.Errorf("streak of fra/n1 (-want +got):\n%s", diff)
		}
	})
}

// TestKeepLatestIsNotReadAgain: WholeLatestForChecks returns the rows
// KeepLatest handed the transaction for a check instead of reading them;
// a transaction not handed them reads them.
func TestKeepLatestIsNotReadAgain(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AdvanceLatest(ctx, []store.LatestWrite{
				{OrgID: org, CheckID: check, Region: "fra", State: "up", ResultID: "stored", CheckedAt: at}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		known := store.Latest{OrgID: org, CheckID: check, Region: "fra", State: "degraded", ResultID: "known", Streak: 5,
			CheckedAt: at.Add(time.Minute), Problems: []byte(`[]`)}
		for _, keep := range []bool{true, false} {
			want := "stored"
			if keep {
				want = "known"
			}
			err := s.InTx(ctx, func(tx *store.Tx) error {
				if keep {
					tx.KeepLatest(map[int64][]store.Latest{check: {known}})
				}
				rows, err := tx.WholeLatestForChecks(ctx, map[int64][]int64{org: {check}})
				if err == nil && (len(rows) != 1 || rows[0].ResultID != want) {
					t.Errorf("kept %v: rows %+v, want the one of result %q", keep, rows, want)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
