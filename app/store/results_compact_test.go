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

// compactRows is a steady run of one region: a full result, then compact
// ones, minute by minute from at.
func compactRows(org, check int64, at time.Time, n int, compact func(i int) bool) []store.ResultRow {
	var rows []store.ResultRow
	for i := range n {
		r := store.ResultRow{ID: fmt.Sprintf("c%03d", i), JobID: fmt.Sprintf("j%03d", i), OrgID: org, CheckID: check,
			Region: "fra", State: "up", CheckedAt: at.Add(time.Duration(i) * time.Minute), DurationMS: int64(40 + i%7),
			Problems: []byte(`[]`), Result: []byte(fmt.Sprintf(`{"state":"up","duration_ms":%d,"nodes":[{"address":"203.0.113.7:443"}]}`, 40+i%7)),
			ReceivedAt: at}
		switch {
		case i%20 >= 16: // four rounds down: long enough to confirm
			r.State, r.DurationMS = "down", 10_000
			r.Problems = []byte(`[{"code":"connection_failed","severity":"critical"}]`)
		case i%20 == 15:
			r.State = "degraded"
			r.Problems = []byte(`[{"code":"slow_response","severity":"warning"}]`)
		}
		r.Compact = compact(i) && r.State == "up"
		rows = append(rows, r)
	}
	return rows
}

// TestCompactResults: a compact row keeps what every reader but the detail
// needs (time, state, duration) and no JSON; the check's latest detail
// falls back to the region's newest full result.
func TestCompactResults(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		rows := compactRows(org, check, at, 5, func(i int) bool { return i > 0 })
		rows[0].Result = []byte(`{"state":"up","nodes":[{"address":"203.0.113.7:443","state":"up"}]}`)
		if got := insert(t, s, rows); len(got) != 5 {
			t.Fatalf("inserted: got %v, want 5 ids", got)
		}
		got := map[string]string{}
		r, err := s.DB().QueryContext(ctx, `SELECT id, result FROM check_results`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var id, result string
			if err := r.Scan(&id, &result); err != nil {
				t.Fatal(err)
			}
			got[id] = result
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"c000": string(rows[0].Result), "c001": "", "c002": "", "c003": "", "c004": ""}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored result column (-want +got):\n%s", diff)
		}
		// A redelivered compact result is still recognised as stored.
		if again := insert(t, s, rows[3:]); len(again) != 0 {
			t.Errorf("redelivered: got %v, want none new", again)
		}
		recent, err := s.RecentResults(ctx, org, check, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recent) != 5 || recent[0].ID != "c004" || recent[0].DurationMS != rows[4].DurationMS || recent[0].State != "up" {
			t.Errorf("recent results: got %+v, want 5, newest c004 up with its duration", recent)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AdvanceLatest(ctx, []store.LatestWrite{{OrgID: org, CheckID: check, Region: "fra", State: "up",
				ResultID: "c004", CheckedAt: rows[4].CheckedAt, Problems: []byte(`[]`)}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		latest, err := s.CheckLatestResults(ctx, org, check)
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 1 || string(latest[0].Result) != string(rows[0].Result) || !latest[0].CheckedAt.Equal(rows[4].CheckedAt) {
			t.Errorf("latest: got %+v, want fra at c004's time with c000's detail", latest)
		}
	})
}

// TestRollupSameWithCompactRows: a day rolled up from compact rows has the
// very figures of the same day stored whole.
func TestRollupSameWithCompactRows(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		rollup := func(compact func(int) bool) []store.Rollup {
			t.Helper()
			if _, err := s.DB().ExecContext(ctx, `DELETE FROM check_results`); err != nil {
				t.Fatal(err)
			}
			insert(t, s, compactRows(org, check, day.Add(-5*time.Minute), 24*60+10, compact))
			if _, err := s.RollupDay(ctx, org, day); err != nil {
				t.Fatal(err)
			}
			got, err := s.Rollups(ctx, org, check, day, day)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		whole := rollup(func(int) bool { return false })
		compact := rollup(func(i int) bool { return i%60 != 0 }) // one full result an hour
		if len(whole) != 1 || whole[0].Time == nil || whole[0].Down == 0 {
			t.Fatalf("rollup from whole rows: got %+v, want one day with down results and time", whole)
		}
		if diff := cmp.Diff(whole, compact); diff != "" {
			t.Errorf("rollup from compact rows differs (-whole +compact):\n%s", diff)
		}
		if u := compact[0].Uptime(); u != whole[0].Uptime() || u >= 100 {
			t.Errorf("uptime: got %v from compact rows, want %v (< 100)", u, whole[0].Uptime())
		}
	})
}
