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
