package housekeep

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// seed creates a check (storetest.SeedCheck) with one up result from fra
// at each of times.
func seed(t *testing.T, s *store.Store, times []time.Time) (orgID, checkID int64) {
	t.Helper()
	orgID, checkID = storetest.SeedCheck(t, s)
	var rows []store.ResultRow
	for i, at := range times {
		rows = append(rows, store.ResultRow{ID: fmt.Sprint("r", i), OrgID: orgID, CheckID: checkID, Region: "fra",
			State: "up", DurationMS: int64(10 * (i + 1)), CheckedAt: at, ReceivedAt: at})
	}
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.InsertResults(ctx, rows)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return orgID, checkID
}

func TestRollupAndRetention(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
		org, check := seed(t, s, []time.Time{
			now.AddDate(0, 0, -20),                // past retention
			now.AddDate(0, 0, -1).Add(-time.Hour), // yesterday
			now.Add(-time.Hour), now.Add(-time.Minute),
		})
		h, err := New(s, Options{Now: func() time.Time { return now }, Registerer: prometheus.NewRegistry(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Rollup(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.Rollups(ctx, org, check, now.AddDate(0, 0, -30), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Total != 1 || got[1].Total != 2 || got[1].P50MS != 30 {
			t.Errorf("rollups: got %+v, want yesterday 1 result, today 2 with p50 30ms", got)
		}
		if err := h.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM check_results`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 3 {
			t.Errorf("results left: got %d, want 3", left)
		}
	})
}

func TestRunStopsWithContext(t *testing.T) {
	s := storetest.SQLite(t)
	h, err := New(s, Options{RunAtStart: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestRollupAddsTimeToOldDays: a day rolled up before rollups kept time is
// rolled up again while all its raw results are kept; an older one keeps
// its counts.
func TestRollupAddsTimeToOldDays(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
		day := func(n int) time.Time { return time.Date(2026, 5, 20-n, 0, 0, 0, 0, time.UTC) }
		var times []time.Time
		for m := range 60 { // 10:00–10:59 three days ago
			times = append(times, day(3).Add(10*time.Hour+time.Duration(m)*time.Minute))
		}
		org, check := seed(t, s, times)
		old := []store.Rollup{ // as rolled up before migration 0011
			{OrgID: org, CheckID: check, Day: day(3), Total: 60, Up: 60},
			{OrgID: org, CheckID: check, Day: day(20), Total: 10, Up: 9, Down: 1}, // past retention
		}
		if err := s.PutRollups(ctx, old); err != nil {
			t.Fatal(err)
		}
		h, err := New(s, Options{Now: func() time.Time { return now }, Registerer: prometheus.NewRegistry(),
			Retention: 14 * 24 * time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Rollup(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.Rollups(ctx, org, check, day(30), day(0))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Time != nil || got[0].Uptime() != 90 {
			t.Fatalf("rollups: got %+v; want the day past retention untouched first", got)
		}
		if r := got[1]; r.Time == nil || r.Time.Monitored != time.Hour || r.Total != 60 {
			t.Errorf("three days ago: got %+v (time %+v), want 60 results and one monitored hour", r, r.Time)
		}
		if days, err := s.DaysWithoutTime(ctx, org, day(13)); err != nil || len(days) != 0 {
			t.Errorf("days without time left within retention: got %v, %v; want none", days, err)
		}
	})
}

// TestRetentionTiers: with the default retention raw results (full and
// compact) older than 48 hours go, the daily rollups made from them stay.
func TestRetentionTiers(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
		var times []time.Time
		for h := 1; h <= 24*5; h++ { // one result an hour over five days
			times = append(times, now.Add(-time.Duration(h)*time.Hour))
		}
		org, check := seed(t, s, times)
		if _, err := s.DB().ExecContext(ctx, `UPDATE check_results SET result = ''`); err != nil {
			t.Fatal(err) // stored compactly, as steady results are
		}
		hk, err := New(s, Options{Now: func() time.Time { return now }, Registerer: prometheus.NewRegistry(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		for d := 5; d >= 0; d-- { // as the hourly job did on each of these days
			for _, day := range []time.Time{now.AddDate(0, 0, -d-1), now.AddDate(0, 0, -d)} {
				if _, err := s.RollupDay(ctx, org, day); err != nil {
					t.Fatal(err)
				}
			}
		}
		before, err := s.Rollups(ctx, org, check, now.AddDate(0, 0, -10), now)
		if err != nil {
			t.Fatal(err)
		}
		if err := hk.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM check_results`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 48 { // one an hour, from 1 to 48 hours ago
			t.Errorf("results left: got %d, want 48 (the last 48 hours)", left)
		}
		after, err := s.Rollups(ctx, org, check, now.AddDate(0, 0, -10), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 6 || len(after) != len(before) {
			t.Fatalf("rollups after retention: got %d days, want the same 6 as before (%d)", len(after), len(before))
		}
		for i := range after {
			if after[i].Total != before[i].Total || after[i].Uptime() != before[i].Uptime() || after[i].P50MS != before[i].P50MS {
				t.Errorf("rollup of %s: got %+v, want %+v as before retention", after[i].Day.Format("2006-01-02"), after[i], before[i])
			}
		}
	})
}

func TestRetentionBelowTwoDaysRefused(t *testing.T) {
	s := storetest.SQLite(t)
	_, err := New(s, Options{Retention: 47 * time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("New with a 47h retention: got no error, want one")
	}
	if _, err := New(s, Options{Retention: 48 * time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Errorf("New with a 48h retention: %v", err)
	}
}
