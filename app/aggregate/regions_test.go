package aggregate

import (
	"fmt"
	"testing"
	"time"

	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// blindSin is sin's network refusing everything, the others reaching all.
func blindSin(_ int, region string) probes.State {
	if region == "sin" {
		return probes.StateDown
	}
	return probes.StateUp
}

// beacon is a worker's beacon of region at round; canary "" means no
// canary is configured.
func (f *fixture) beacon(region string, round int, canary probes.State) pipeline.Result {
	at := f.base.Add(time.Duration(round) * time.Minute)
	return pipeline.Result{ID: fmt.Sprintf("b-%s-%d-%d", region, round, f.org), Region: region, Worker: region + "-1",
		Produced: at, Beacon: true, Result: probes.Result{State: canary, CheckedAt: at}}
}

// publicCalm fails the test unless every check of f is up or not yet
// judged, its component operational and no incident open: what the public
// sees of a blind region is nothing.
func (f *fixture) publicCalm(t *testing.T, when string) {
	t.Helper()
	for i := range f.checks {
		if got := f.checkState(i); got != "up" && got != "unknown" {
			t.Errorf("%s: check %d is %s, want up or unknown", when, i, got)
		}
	}
	if got := f.componentStatus(); got != "operational" {
		t.Errorf("%s: component %s, want operational", when, got)
	}
	if n := f.count(`SELECT COUNT(*) FROM incidents WHERE org_id = ?`, f.org); n != 0 {
		t.Errorf("%s: %d incidents, want none", when, n)
	}
}

// TestBlindRegionWithOneCheckAndCanary: an organisation with a single
// check, sin blind from the first round. The canary, reached from fra and
// iad and not from sin, judges sin unhealthy at once: the public never
// sees trouble, and the organisation's operators hear of sin.
func TestBlindRegionWithOneCheckAndCanary(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		a := f.aggregator(Options{})
		for round := 1; round <= 4; round++ {
			batch := []pipeline.Result{f.beacon("fra", round, probes.StateUp), f.beacon("iad", round, probes.StateUp),
				f.beacon("sin", round, probes.StateDown)}
			process(t, a, append(batch, f.round(round, blindSin, 0)...))
			f.publicCalm(t, fmt.Sprintf("round %d", round))
		}
		if got := f.checkState(0); got != "up" {
			t.Errorf("check: %s, want up with sin excluded", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM region_health WHERE org_id = ? AND region = 'sin' AND NOT healthy`, f.org); n != 1 {
			t.Errorf("sin recorded unhealthy for the organisation: %d, want 1", n)
		}
		if n := f.outbox("region.unhealthy"); n != 1 {
			t.Errorf("region.unhealthy events: %d, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM probe_regions WHERE region = 'sin' AND health = 'unhealthy' AND reason LIKE '%canary%'`); n != 1 {
			t.Errorf("sin's verdict for the console: %d rows, want unhealthy for the canary", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM probe_workers`); n != 3 {
			t.Errorf("workers recorded: %d, want 3", n)
		}
	})
}

// TestBlindRegionReportsFirst: sin's results of two rounds arrive before
// any other region's (no canary): sin cannot be judged yet, so its word
// does not count and the checks stay unknown — never degraded. Once fra
// and iad report, sin is unhealthy and the checks are up.
func TestBlindRegionReportsFirst(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 10)
		a := f.aggregator(Options{})
		ids := make([]int, len(f.checks))
		for i := range ids {
			ids[i] = i
		}
		only := func(region string, batch []pipeline.Result) []pipeline.Result {
			var out []pipeline.Result
			for _, r := range batch {
				if r.Region == region {
					out = append(out, r)
				}
			}
			return out
		}
		for round := 1; round <= 2; round++ {
			process(t, a, append(only("sin", f.round(round, blindSin, ids...)), f.beacon("fra", round, ""),
				f.beacon("iad", round, ""), f.beacon("sin", round, "")))
			f.publicCalm(t, fmt.Sprintf("sin alone, round %d", round))
		}
		if got := f.checkState(0); got != "unknown" {
			t.Errorf("with sin not judged: check %s, want unknown", got)
		}
		for round := 1; round <= 3; round++ {
			batch := f.round(round, blindSin, ids...)
			if round < 3 {
				batch = append(only("fra", batch), only("iad", batch)...)
			}
			process(t, a, batch)
			f.publicCalm(t, fmt.Sprintf("all regions, round %d", round))
		}
		if got := f.checkState(0); got != "up" {
			t.Errorf("check: %s, want up once fra and iad reported", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM probe_regions WHERE region = 'sin' AND health = 'unhealthy'`); n != 1 {
			t.Errorf("sin not judged unhealthy")
		}
	})
}

// TestRegionJudgedAcrossOrganisations: sin is blind for everyone; an
// organisation with one check (too few to judge a region by) is protected
// by another organisation's ten.
func TestRegionJudgedAcrossOrganisations(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		small, big := newOrgFixture(t, s, "small", 1), newOrgFixture(t, s, "big", 10)
		a := small.aggregator(Options{})
		ids := make([]int, len(big.checks))
		for i := range ids {
			ids[i] = i
		}
		for round := 1; round <= 4; round++ {
			process(t, a, append(big.round(round, blindSin, ids...), small.round(round, blindSin, 0)...))
			small.publicCalm(t, fmt.Sprintf("small, round %d", round))
			big.publicCalm(t, fmt.Sprintf("big, round %d", round))
		}
		if got := small.checkState(0); got != "up" {
			t.Errorf("the small organisation's check: %s, want up", got)
		}
		if n := small.outbox("region.unhealthy"); n != 1 {
			t.Errorf("the small organisation's region.unhealthy events: %d, want 1", n)
		}
	})
}

// TestRealOutageStillGoesDown: with sin blind and judged so, a target down
// for everyone goes down after the confirm rounds, not before.
func TestRealOutageStillGoesDown(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 1)
		a := f.aggregator(Options{})
		canaries := func(round int) []pipeline.Result {
			return []pipeline.Result{f.beacon("fra", round, probes.StateUp), f.beacon("iad", round, probes.StateUp),
				f.beacon("sin", round, probes.StateDown)}
		}
		for round := 1; round <= 2; round++ {
			process(t, a, append(canaries(round), f.round(round, blindSin, 0)...))
		}
		process(t, a, append(canaries(3), f.round(3, all(probes.StateDown), 0)...))
		f.publicCalm(t, "the first round of the outage")
		process(t, a, append(canaries(4), f.round(4, all(probes.StateDown), 0)...))
		if got := f.checkState(0); got != "down" {
			t.Errorf("after the confirm rounds: %s, want down", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE org_id = ?`, f.org); n != 1 {
			t.Errorf("incidents: %d, want 1", n)
		}
	})
}

// TestOneRoundOfTroubleChangesNothingPublic: one region's single down
// round leaves the check up and the component operational.
func TestOneRoundOfTroubleChangesNothingPublic(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 4)
		a := f.aggregator(Options{})
		process(t, a, f.round(1, all(probes.StateUp), 0, 1, 2, 3))
		blip := func(i int, region string) probes.State {
			if i == 0 && region == "fra" {
				return probes.StateDown
			}
			return probes.StateUp
		}
		process(t, a, f.round(2, blip, 0, 1, 2, 3))
		f.publicCalm(t, "one round down from fra")
		if got := f.checkState(0); got != "up" {
			t.Errorf("check 0: %s, want up", got)
		}
		process(t, a, f.round(3, blip, 0, 1, 2, 3))
		if got := f.checkState(0); got != "degraded" {
			t.Errorf("check 0 after fra's second down round: %s, want degraded", got)
		}
	})
}

// TestUnsettledJudgementReusedBriefly: with RefreshEvery at its default, a
// judgement holding a region not yet judged is reused for about a second
// (not judged again every batch), then judged afresh.
func TestUnsettledJudgementReusedBriefly(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 4)
		clock := f.base.Add(time.Minute)
		a := f.aggregator(Options{RefreshEvery: DefaultRefreshEvery, Now: func() time.Time { return clock }})
		ids := []int{0, 1, 2, 3}
		sinOnly := func(round int) []pipeline.Result {
			var out []pipeline.Result
			for _, r := range f.round(round, blindSin, ids...) {
				if r.Region == "sin" {
					out = append(out, r)
				}
			}
			return out
		}
		process(t, a, sinOnly(1)) // sin alone: not judged yet
		sinUnhealthy := func() int {
			return f.count(`SELECT COUNT(*) FROM probe_regions WHERE region = 'sin' AND health = 'unhealthy'`)
		}
		clock = clock.Add(500 * time.Millisecond)
		process(t, a, f.round(2, blindSin, ids...)) // the evidence, within the second
		if n := sinUnhealthy(); n != 0 {
			t.Errorf("judged again within %v of an unsettled judgement", unsettledEvery)
		}
		clock = clock.Add(time.Second)
		process(t, a, f.round(3, blindSin, ids...))
		if n := sinUnhealthy(); n != 1 {
			t.Errorf("not judged again after %v: sin unhealthy rows %d, want 1", unsettledEvery, n)
		}
	})
}

// TestOneBatchAtATimeJudgesRegions: when the judgement is due while
// another batch is judging the regions again, a batch uses the last
// judgement instead of judging too; a claim whose batch never committed
// lapses after rejudgeClaim.
func TestOneBatchAtATimeJudgesRegions(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		clock := f.base.Add(time.Minute)
		a := f.aggregator(Options{RefreshEvery: DefaultRefreshEvery, Now: func() time.Time { return clock }})
		judgedAt := func() time.Time {
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.regions.at
		}
		process(t, a, f.round(1, all(probes.StateUp), 0, 1))
		first := judgedAt()
		if first.IsZero() {
			t.Fatal("the first batch did not judge the regions")
		}
		clock = clock.Add(DefaultRefreshEvery + time.Second) // due again
		a.mu.Lock()
		a.rejudging = clock.Add(-time.Second) // another batch is at it
		a.mu.Unlock()
		process(t, a, f.round(2, all(probes.StateUp), 0, 1))
		if got := judgedAt(); !got.Equal(first) {
			t.Errorf("judged again (at %v) while another batch was judging", got)
		}

		clock = clock.Add(rejudgeClaim) // that batch never committed
		process(t, a, f.round(3, all(probes.StateUp), 0, 1))
		if got := judgedAt(); got.Equal(first) {
			t.Errorf("not judged again once the claim lapsed (still %v)", got)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.rejudging.IsZero() {
			t.Errorf("claim left after the judging batch committed: %v", a.rejudging)
		}
	})
}
