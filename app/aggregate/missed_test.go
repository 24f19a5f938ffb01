package aggregate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestMissedRounds: rounds lost between a check's results (here: rounds 3
// to 6 of fra, as after a bus restart without persistence) are counted per
// region in pharos_rounds_missed_total; a late result and consecutive
// rounds count nothing.
func TestMissedRounds(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		a := f.aggregator(Options{})
		process(t, a, f.round(1, all(probes.StateUp), 0, 1))
		process(t, a, f.round(2, all(probes.StateUp), 0, 1))
		// fra loses rounds 3–6 of check 0; the other regions report them.
		for round := 3; round <= 6; round++ {
			batch := f.round(round, all(probes.StateUp), 0, 1)
			kept := batch[:0]
			for _, r := range batch {
				if r.Region != "fra" || r.CheckID != f.checks[0].ID {
					kept = append(kept, r)
				}
			}
			process(t, a, kept)
		}
		process(t, a, f.round(7, all(probes.StateUp), 0, 1))
		process(t, a, []pipeline.Result{f.result(0, "fra", 4, probes.StateUp)}) // late: counts nothing
		got := map[string]float64{}
		for _, r := range regions3 {
			got[r] = value(t, a.metrics.missed.WithLabelValues(r))
		}
		if diff := cmp.Diff(map[string]float64{"fra": 4, "iad": 0, "sin": 0}, got); diff != "" {
			t.Errorf("missed rounds (-want +got):\n%s", diff)
		}
		stored, err := s.MissedRoundsSince(t.Context(), f.org, f.base.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"fra": 4}, stored); diff != "" {
			t.Errorf("missed rounds stored for the console (-want +got):\n%s", diff)
		}
	})
}

func TestMissedRoundsOverValues(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	checks := map[int64]store.CheckInfo{1: {Check: store.Check{ID: 1, OrgID: 5, Interval: 30 * time.Second}}}
	latest := []store.Latest{{CheckID: 1, Region: "fra", CheckedAt: base}, {CheckID: 1, Region: "fra", Node: "10.0.0.1:443", CheckedAt: base}}
	res := func(region string, after time.Duration) pipeline.Result {
		return pipeline.Result{OrgID: 5, CheckID: 1, Region: region, Result: probes.Result{CheckedAt: base.Add(after)}}
	}
	got := missedRounds(latest, []pipeline.Result{
		res("fra", 40*time.Second),  // jitter within 1.5 intervals: none
		res("fra", 130*time.Second), // 90 s after: 2 lost
		res("iad", 0),               // first of its region: nothing to compare
		res("iad", 31*time.Second),
	}, checks)
	if diff := cmp.Diff([]store.MissedRounds{{OrgID: 5, Region: "fra", Hour: base, Missed: 2}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
