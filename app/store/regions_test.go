package store_test

import (
	"context"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestBeaconsAndRegionVerdicts: each worker's newest beacon is kept (a
// late older one changes nothing), workers silent for a week are
// forgotten, a verdict's changed_at moves only when its health does, and
// ProbeRegions joins verdicts with the workers seen.
func TestBeaconsAndRegionVerdicts(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		tx := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := s.InTx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		tx(func(tx *store.Tx) error {
			return tx.RecordBeacons(ctx, []store.Beacon{
				{Region: "fra", Worker: "fra-1", SeenAt: now.Add(-8 * 24 * time.Hour)},
				{Region: "fra", Worker: "fra-2", SeenAt: now.Add(-time.Minute), CanaryState: "up"},
				{Region: "sin", Worker: "sin-1", SeenAt: now.Add(-2 * time.Minute), CanaryState: "down", CanaryError: "refused"},
				{Region: "sin", Worker: "sin-1", SeenAt: now.Add(-3 * time.Minute), CanaryState: "up"}, // older, same batch
			})
		})
		tx(func(tx *store.Tx) error { // newest first, then a late older one
			if err := tx.RecordBeacons(ctx, []store.Beacon{{Region: "fra", Worker: "fra-2", SeenAt: now, CanaryState: "up"}}); err != nil {
				return err
			}
			return tx.RecordBeacons(ctx, []store.Beacon{{Region: "fra", Worker: "fra-2", SeenAt: now.Add(-time.Hour), CanaryState: "down"}})
		})
		var got []store.Beacon
		tx(func(tx *store.Tx) (err error) {
			got, err = tx.RecentBeacons(ctx, now.Add(-time.Hour))
			return err
		})
		want := []store.Beacon{
			{Region: "fra", Worker: "fra-2", SeenAt: now, CanaryState: "up"},
			{Region: "sin", Worker: "sin-1", SeenAt: now.Add(-2 * time.Minute), CanaryState: "down", CanaryError: "refused"},
		}
		if len(got) != len(want) {
			t.Fatalf("recent beacons: got %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("beacon %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM probe_workers WHERE worker = 'fra-1'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("a worker silent for 8 days: %d rows (%v), want forgotten", n, err)
		}

		tx(func(tx *store.Tx) error {
			return tx.SetRegionVerdicts(ctx, []store.RegionVerdict{{Region: "fra", Health: "healthy", Reason: "reaches the canary"},
				{Region: "sin", Health: "unjudged"}}, now.Add(-time.Minute))
		})
		tx(func(tx *store.Tx) error {
			return tx.SetRegionVerdicts(ctx, []store.RegionVerdict{{Region: "fra", Health: "healthy", Reason: "3 of 3 targets up"},
				{Region: "sin", Health: "unhealthy", Reason: "cannot reach the canary"}}, now)
		})
		regions, err := s.ProbeRegions(ctx, now.Add(-5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(regions) != 2 {
			t.Fatalf("probe regions: got %+v, want fra and sin", regions)
		}
		fra, sin := regions[0], regions[1]
		if fra.Region != "fra" || fra.Health != "healthy" || fra.Reason != "3 of 3 targets up" ||
			!fra.ChangedAt.Equal(now.Add(-time.Minute)) || !fra.JudgedAt.Equal(now) || len(fra.Workers) != 1 {
			t.Errorf("fra: got %+v, want healthy since the first verdict, judged now, one worker", fra)
		}
		if sin.Health != "unhealthy" || !sin.ChangedAt.Equal(now) || len(sin.Workers) != 1 {
			t.Errorf("sin: got %+v, want unhealthy since now, one worker", sin)
		}
		if state, errText, at := sin.Canary(); state != "down" || errText != "refused" || !at.Equal(now.Add(-2*time.Minute)) {
			t.Errorf("sin canary: got %q %q %v", state, errText, at)
		}
	})
}
