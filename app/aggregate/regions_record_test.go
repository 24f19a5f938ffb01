package aggregate

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// canaryRound is round's canary beacons (sin's in state sin) and a result
// from each region for check 0 of every fixture, sin's down when its canary
// is.
func canaryRound(round int, sin probes.State, fs ...*fixture) []pipeline.Result {
	state := all(probes.StateUp)
	if sin == probes.StateDown {
		state = blindSin
	}
	out := []pipeline.Result{fs[0].beacon("fra", round, probes.StateUp), fs[0].beacon("iad", round, probes.StateUp),
		fs[0].beacon("sin", round, sin)}
	for _, f := range fs {
		out = append(out, f.round(round, state, 0)...)
	}
	return out
}

// TestRegionRecordKeptForTheJudgement: an organisation's record of
// unhealthy regions is read once per region judgement, not once per batch.
// Reusing it changes nothing the organisations see (each event once, sin
// excluded throughout); a record another aggregator wrote is taken up at
// the next judgement.
func TestRegionRecordKeptForTheJudgement(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, g := newOrgFixture(t, s, "first", 1), newOrgFixture(t, s, "second", 1)
		clock := f.base.Add(time.Minute)
		a := f.aggregator(Options{RefreshEvery: DefaultRefreshEvery, Now: func() time.Time { return clock }})
		events := func(when string, wantF, wantG int, kind string) {
			t.Helper()
			if n := f.outbox(kind); n != wantF {
				t.Errorf("%s: first's %s events: %d, want %d", when, kind, n, wantF)
			}
			if n := g.outbox(kind); n != wantG {
				t.Errorf("%s: second's %s events: %d, want %d", when, kind, n, wantG)
			}
			for _, x := range []*fixture{f, g} {
				if got := x.checkState(0); got != "up" {
					t.Errorf("%s: check of org %d is %s, want up with sin excluded", when, x.org, got)
				}
			}
		}
		unhealthy := func(region string) int {
			return f.count(`SELECT COUNT(*) FROM region_health WHERE org_id = ? AND region = ? AND NOT healthy`, f.org, region)
		}

		process(t, a, canaryRound(1, probes.StateDown, f, g)) // judged: sin unhealthy
		events("sin judged unhealthy", 1, 1, "region.unhealthy")
		for round := 2; round <= 3; round++ { // the same judgement
			clock = clock.Add(2 * time.Second)
			process(t, a, canaryRound(round, probes.StateDown, f, g))
			events(fmt.Sprintf("round %d, same judgement", round), 1, 1, "region.unhealthy")
		}

		// Another aggregator records iad unhealthy for the first
		// organisation: this judgement's record of it does not say so, so
		// iad is not cleared until the next judgement reads the record.
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.SetRegionHealth(ctx, f.org, "iad", false, clock)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(2 * time.Second)
		process(t, a, canaryRound(4, probes.StateDown, f, g))
		if n := unhealthy("iad"); n != 1 {
			t.Errorf("iad cleared under the judgement that read the record before it was written")
		}
		clock = clock.Add(DefaultRefreshEvery)
		process(t, a, canaryRound(5, probes.StateDown, f, g)) // judged afresh: iad healthy
		if n := unhealthy("iad"); n != 0 {
			t.Errorf("iad still recorded unhealthy after a new judgement read the record")
		}
		events("iad cleared", 1, 0, "region.healthy")

		clock = clock.Add(DefaultRefreshEvery)
		process(t, a, canaryRound(6, probes.StateUp, f, g)) // judged afresh: sin healthy
		clock = clock.Add(2 * time.Second)
		process(t, a, canaryRound(7, probes.StateUp, f, g))
		events("sin healthy again", 2, 1, "region.healthy")
		if n := unhealthy("sin"); n != 0 {
			t.Errorf("sin still recorded unhealthy for the first organisation")
		}
	})
}

// BenchmarkRegionHealthOrgs measures the region step of a batch that
// touches 100 organisations (one check × 3 regions each, all healthy) while
// the region judgement is reused: "step" is regionHealth alone in a
// transaction, "batch" the whole ProcessBatch of that round.
//
//	go test -run '^$' -bench RegionHealthOrgs -benchtime 200x ./app/aggregate/
func BenchmarkRegionHealthOrgs(b *testing.B) {
	const orgs = 100
	for _, backend := range benchBackends {
		s := backend.open(b)
		fs := make([]*fixture, orgs)
		ids := map[int64][]int64{}
		for i := range fs {
			fs[i] = newOrgFixture(b, s, "org"+strconv.Itoa(i), 1)
			ids[fs[i].org] = []int64{fs[i].checks[0].ID}
		}
		a := fs[0].aggregator(Options{RefreshEvery: DefaultRefreshEvery})
		process(b, a, canaryRound(0, probes.StateUp, fs...)) // warm: judged, latest rows exist
		round := 0
		b.Run(backend.name+"/step", func(b *testing.B) {
			ctx := context.Background()
			beacons, results := splitBeacons(canaryRound(1, probes.StateUp, fs...))
			for range b.N {
				err := s.InTx(ctx, func(tx *store.Tx) error {
					checks, err := tx.ChecksForAggregation(ctx, ids)
					if err != nil {
						return err
					}
					_, err = a.regionHealth(ctx, tx, results, beacons, checks, time.Now(), &outcome{})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*orgs), "µs/org")
		})
		b.Run(backend.name+"/batch", func(b *testing.B) {
			for range b.N {
				round++
				process(b, a, canaryRound(round, probes.StateUp, fs...))
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*orgs), "µs/org")
		})
	}
}
