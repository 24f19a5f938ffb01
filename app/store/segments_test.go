package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// appendSteady appends samples in one transaction and returns which were
// stored.
func appendSteady(t *testing.T, s *store.Store, samples []store.SteadySample) []bool {
	t.Helper()
	var stored []bool
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		stored, err = tx.AppendSteady(context.Background(), samples)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// split stores rows as the aggregator does: the compact ones as steady
// samples of their segments, the rest as full rows.
func split(t *testing.T, s *store.Store, rows []store.ResultRow) {
	t.Helper()
	var full []store.ResultRow
	var samples []store.SteadySample
	for _, r := range rows {
		if !r.Compact {
			full = append(full, r)
			continue
		}
		samples = append(samples, store.SteadySample{OrgID: r.OrgID, CheckID: r.CheckID, Region: r.Region, State: r.State,
			CheckedAt: r.CheckedAt, DurationMS: r.DurationMS})
	}
	insert(t, s, full)
	for i, ok := range appendSteady(t, s, samples) {
		if !ok {
			t.Fatalf("sample %d (%s) not stored", i, samples[i].CheckedAt)
		}
	}
}

// TestSteadySegments: steady samples are stored once however often they
// are delivered, read back merged with the full rows by every reader, and
// go with retention once their hour has passed the cutoff.
func TestSteadySegments(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		// Two hours and ten minutes of one region: a full row on the hour
		// and after each change, samples otherwise.
		rows := compactRows(org, check, at, 130, func(i int) bool { return i%60 != 0 })
		for i := range rows {
			rows[i].CheckedAt = rows[i].CheckedAt.Add(1234567 * time.Microsecond) // kept to the millisecond
			if i > 0 && rows[i-1].State != rows[i].State {
				rows[i].Compact = false
			}
		}
		split(t, s, rows)
		steady := 0
		for _, r := range rows {
			if r.Compact {
				steady++
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM check_results`); n != len(rows)-steady {
			t.Errorf("full rows: got %d, want %d", n, len(rows)-steady)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM result_segments`); n != 3 {
			t.Errorf("segments: got %d, want 3 (one an hour)", n)
		}

		// Redelivered, alone or with a new sample: only the new one is stored.
		last := rows[len(rows)-1]
		again := store.SteadySample{OrgID: org, CheckID: check, Region: "fra", State: last.State,
			CheckedAt: last.CheckedAt, DurationMS: last.DurationMS}
		next := again
		next.CheckedAt, next.DurationMS = again.CheckedAt.Add(time.Minute), 4321
		if got := appendSteady(t, s, []store.SteadySample{again, next}); !cmp.Equal(got, []bool{false, true}) {
			t.Errorf("redelivered then new: got %v, want [false true]", got)
		}
		var seen []bool
		err := s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			seen, err = tx.SteadyStored(ctx, []store.SteadySample{again, next, {OrgID: org, CheckID: check, Region: "fra",
				State: "up", CheckedAt: next.CheckedAt.Add(time.Second)}})
			return err
		})
		if err != nil || !cmp.Equal(seen, []bool{last.Compact, true, false}) {
			t.Errorf("SteadyStored: got %v, %v; want [%v true false]", seen, err, last.Compact)
		}

		// Every reader sees every result, in time order.
		all, err := s.ResultsBetween(ctx, org, check, at, at.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(rows)+1 {
			t.Fatalf("ResultsBetween: got %d results, want %d", len(all), len(rows)+1)
		}
		for i, r := range rows {
			p := all[i]
			want := store.ResultPoint{ID: r.ID, CheckID: check, Region: "fra", State: r.State, CheckedAt: r.CheckedAt,
				DurationMS: r.DurationMS, Problems: r.Problems}
			if r.Compact {
				want.ID, want.CheckedAt = "", r.CheckedAt.Truncate(time.Millisecond)
			}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Fatalf("result %d (-want +got):\n%s", i, diff)
			}
		}
		latest, err := s.LatestResults(ctx, org, check, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 5 || latest[0].DurationMS != 4321 || !latest[4].CheckedAt.Equal(all[len(all)-5].CheckedAt) {
			t.Errorf("LatestResults: got %+v, want the newest 5, newest first", latest)
		}
		counts, err := s.ResultCounts(ctx, org, at.Add(90*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"fra": len(rows) + 1 - 90}; !cmp.Equal(counts, want) {
			t.Errorf("ResultCounts: got %v, want %v", counts, want)
		}

		// Retention: the first hour goes whole, rows and segment; the
		// segment of the hour the cutoff falls in stays.
		if _, err := s.DeleteResultsBefore(ctx, at.Add(90*time.Minute), 1); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM result_segments`); n != 2 {
			t.Errorf("segments after retention: got %d, want 2", n)
		}
		left, err := s.ResultsBetween(ctx, org, check, at, at.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			t.Fatal("after retention: got no results, want those of the hour the cutoff falls in")
		}
		if left[0].CheckedAt.Before(at.Add(time.Hour)) {
			t.Errorf("after retention: oldest %v, want none before %v", left[0].CheckedAt, at.Add(time.Hour))
		}
	})
}

// TestAppendSteadyAfter: a sample no later than its After is skipped as a
// redelivery without the segment being read (the caller vouches that the
// segment holds nothing later); one after it is appended behind what the
// segment holds. Vouched wrongly, the upsert itself still refuses a sample
// its segment already reaches, and tells which segments it wrote.
func TestAppendSteadyAfter(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		smp := func(minute int, after time.Time) store.SteadySample {
			return store.SteadySample{OrgID: org, CheckID: check, Region: "fra", State: "up",
				CheckedAt: at.Add(time.Duration(minute) * time.Minute), DurationMS: int64(minute), After: after}
		}
		if got := appendSteady(t, s, []store.SteadySample{smp(1, time.Time{})}); !cmp.Equal(got, []bool{true}) {
			t.Errorf("first: got %v, want [true]", got)
		}
		two := at.Add(2 * time.Minute)
		got := appendSteady(t, s, []store.SteadySample{smp(2, two), smp(3, two), smp(4, two)})
		if !cmp.Equal(got, []bool{false, true, true}) {
			t.Errorf("with After: got %v, want [false true true]", got)
		}
		one := at.Add(time.Minute) // earlier than the segment's last sample, 4
		if got := appendSteady(t, s, []store.SteadySample{smp(4, one), smp(64, one)}); !cmp.Equal(got, []bool{false, true}) {
			t.Errorf("After too early, the segment's last sample again and one in the next hour: got %v, want [false true]", got)
		}
		points, err := s.ResultsBetween(ctx, org, check, at, at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var minutes []int64
		for _, p := range points {
			minutes = append(minutes, p.DurationMS)
		}
		if !cmp.Equal(minutes, []int64{1, 3, 4}) {
			t.Errorf("samples read back (by minute): got %v, want [1 3 4]", minutes)
		}
	})
}

// TestRollupSameWithSegments: a day rolled up from full rows and steady
// samples has the very figures of the same day stored as rows only.
func TestRollupSameWithSegments(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, check := storetest.SeedCheck(t, s)
		day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		rollup := func(compact func(int) bool) []store.Rollup {
			t.Helper()
			for _, table := range []string{"check_results", "result_segments"} {
				if _, err := s.DB().ExecContext(ctx, `DELETE FROM `+table); err != nil {
					t.Fatal(err)
				}
			}
			rows := compactRows(org, check, day.Add(-5*time.Minute), 24*60+10, compact)
			for i := range rows {
				if i > 0 && rows[i-1].State != rows[i].State {
					rows[i].Compact = false
				}
			}
			split(t, s, rows)
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
		segments := rollup(func(i int) bool { return i%60 != 0 })
		if n := count(t, s, `SELECT COUNT(*) FROM result_segments`); n < 24 {
			t.Fatalf("segments: got %d, want one an hour at least", n)
		}
		if len(whole) != 1 || whole[0].Time == nil || whole[0].Down == 0 {
			t.Fatalf("rollup from rows: got %+v, want one day with down results and time", whole)
		}
		if diff := cmp.Diff(whole, segments); diff != "" {
			t.Errorf("rollup with segments differs (-rows +segments):\n%s", diff)
		}
	})
}
