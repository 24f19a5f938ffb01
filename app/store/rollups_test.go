package store_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func insert(t *testing.T, s *store.Store, rows []store.ResultRow) []string {
	t.Helper()
	var ids []string
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		ids, err = tx.InsertResults(context.Background(), rows)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestInsertResultsIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		org, check := storetest.SeedCheck(t, s)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		var rows []store.ResultRow
		for i := range 3 {
			rows = append(rows, store.ResultRow{ID: fmt.Sprint("r", i), OrgID: org, CheckID: check, Region: "fra",
				State: "up", CheckedAt: at, ReceivedAt: at})
		}
		if got := insert(t, s, rows[:2]); len(got) != 2 {
			t.Errorf("first insert: got %v, want 2 ids", got)
		}
		if got := insert(t, s, rows); len(got) != 1 || got[0] != "r2" {
			t.Errorf("second insert: got %v, want [r2]", got)
		}
	})
}

func TestRollupDay(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		day := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC) // a DST day in Europe: days stay UTC
		var rows []store.ResultRow
		// 100 results: 90 up with 1..90 ms, 5 degraded at 1000 ms, 5 down at 10000 ms.
		for i := range 100 {
			r := store.ResultRow{ID: fmt.Sprint("d", i), OrgID: org, CheckID: check, Region: "fra",
				CheckedAt: day.Add(time.Duration(i) * 14 * time.Minute), ReceivedAt: day}
			switch {
			case i < 90:
				r.State, r.DurationMS = "up", int64(i+1)
			case i < 95:
				r.State, r.DurationMS = "degraded", 1000
			default:
				r.State, r.DurationMS = "down", 10000
			}
			rows = append(rows, r)
		}
		// Results of the days around must not count.
		rows = append(rows,
			store.ResultRow{ID: "before", OrgID: org, CheckID: check, Region: "fra", State: "down", CheckedAt: day.Add(-time.Second), ReceivedAt: day},
			store.ResultRow{ID: "after", OrgID: org, CheckID: check, Region: "fra", State: "down", CheckedAt: day.AddDate(0, 0, 1), ReceivedAt: day})
		insert(t, s, rows)
		for range 2 { // re-running is safe
			if n, err := s.RollupDay(ctx, org, day.Add(13*time.Hour)); err != nil || n != 1 {
				t.Fatalf("RollupDay: got %d, %v; want 1 check", n, err)
			}
		}
		got, err := s.Rollups(ctx, org, check, day.AddDate(0, 0, -1), day.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("rollups: got %d, want 1: %+v", len(got), got)
		}
		r := got[0]
		if !r.Day.Equal(day) || r.Total != 100 || r.Up != 90 || r.Degraded != 5 || r.Down != 5 {
			t.Errorf("rollup counts: got %+v", r)
		}
		// A result every 14 minutes of a check run every minute stands for
		// one minute: 100 monitored minutes. Trouble counts once confirmed,
		// and each minute follows a gap, so the first degraded and the
		// first down round count as up: 4 minutes degraded, 4 down.
		want := incident.Span{Monitored: 100 * time.Minute, Degraded: 4 * time.Minute, Down: 4 * time.Minute}
		if r.Time == nil || *r.Time != want {
			t.Errorf("time: got %+v, want %+v", r.Time, want)
		}
		if math.Abs(r.Uptime()-96) > 1e-9 {
			t.Errorf("uptime: got %v, want 96", r.Uptime())
		}
		// 95 non-down durations: 1..90 then five 1000s. Nearest rank:
		// p50 = 48th value = 48; p95 = ceil(90.25) = 91st value = 1000.
		if r.P50MS != 48 || r.P95MS != 1000 {
			t.Errorf("percentiles: got p50 %d p95 %d, want 48 and 1000", r.P50MS, r.P95MS)
		}
	})
}

func TestDeleteResultsBefore(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		org, check := storetest.SeedCheck(t, s)
		cutoff := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
		var rows []store.ResultRow
		for i := range 25 {
			at := cutoff.Add(time.Duration(i-10) * time.Hour) // 10 before the cutoff, 15 at or after
			rows = append(rows, store.ResultRow{ID: fmt.Sprint("x", i), OrgID: org, CheckID: check, Region: "fra",
				State: "up", CheckedAt: at, ReceivedAt: at})
		}
		insert(t, s, rows)
		n, err := s.DeleteResultsBefore(context.Background(), cutoff, 3)
		if err != nil || n != 10 {
			t.Fatalf("DeleteResultsBefore: got %d, %v; want 10", n, err)
		}
		var left int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM check_results`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 15 {
			t.Errorf("left: got %d, want 15", left)
		}
	})
}
