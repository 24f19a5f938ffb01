package aggregate

import (
	"fmt"
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestSweepMarksChecksWithoutWorker: check 0 is probed from fra, iad and
// sin all along; check 1 from ams and lhr, whose workers stop after it went
// down; check 2 from a region no worker ever served. Once no result came
// from their regions for NoWorkerAfter, the sweep marks checks 1 and 2
// misconfigured, the incident check 1 opened resolves and the component
// follows check 0 alone. A stalled pipeline (no region reporting at all)
// blames nobody, and a check whose worker returns is judged again.
func TestSweepMarksChecksWithoutWorker(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 3)
		f.exec(fmt.Sprintf(`UPDATE checks SET regions = '["ams","lhr"]' WHERE id = %d`, f.checks[1].ID))
		f.exec(fmt.Sprintf(`UPDATE checks SET regions = '["mars"]' WHERE id = %d`, f.checks[2].ID))
		clock := f.base.Add(15 * time.Minute)
		a := f.aggregator(Options{Now: func() time.Time { return clock }})
		check1 := func(round int) []pipeline.Result {
			return []pipeline.Result{f.result(1, "ams", round, probes.StateDown), f.result(1, "lhr", round, probes.StateDown)}
		}
		for round := 1; round <= 2; round++ {
			process(t, a, append(f.round(round, all(probes.StateUp), 0), check1(round)...))
		}
		if got := f.componentStatus(); got != incident.PartialOutage {
			t.Fatalf("component with check 1 down: got %s, want partial_outage", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL`); n != 1 {
			t.Fatalf("open incidents: got %d, want 1", n)
		}
		for round := 3; round <= 14; round++ {
			process(t, a, f.round(round, all(probes.StateUp), 0))
		}

		n, err := a.Sweep(t.Context())
		if err != nil || n != 2 {
			t.Fatalf("sweep: got %d, %v; want 2 checks marked", n, err)
		}
		for i, want := range []string{"up", "misconfigured", "misconfigured"} {
			if got := f.checkState(i); got != want {
				t.Errorf("check %d: got %s, want %s", i, got, want)
			}
		}
		if got := f.componentStatus(); got != incident.Operational {
			t.Errorf("component: got %s, want operational (follows check 0 alone)", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL`); n != 0 {
			t.Errorf("open incidents after the sweep: got %d, want 0", n)
		}
		if n := f.outbox("incident.resolved"); n != 1 {
			t.Errorf("incident.resolved events: got %d, want 1", n)
		}
		if n, err := a.Sweep(t.Context()); err != nil || n != 0 {
			t.Errorf("second sweep: got %d, %v; want nothing more", n, err)
		}

		clock = f.base.Add(time.Hour) // nothing reported for 45 minutes: the pipeline is stalled
		f.exec(fmt.Sprintf(`UPDATE checks SET state = 'up' WHERE id = %d`, f.checks[2].ID))
		if n, err := a.Sweep(t.Context()); err != nil || n != 0 {
			t.Errorf("sweep of a stalled pipeline: got %d, %v; want nobody blamed", n, err)
		}

		clock = f.base.Add(15 * time.Minute)
		process(t, a, check1(15)) // ams and lhr are back
		if got := f.checkState(1); got != "down" {
			t.Errorf("check 1 with its workers back: got %s, want down", got)
		}
	})
}

// TestSweepWithoutAnyWorker: when no region has ever reported (a file
// naming only remote regions under `pharos run`), every check old enough
// is misconfigured; a check changed recently is given its time.
func TestSweepWithoutAnyWorker(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		clock := f.base.Add(9 * time.Minute)
		a := f.aggregator(Options{Now: func() time.Time { return clock }})
		if n, err := a.Sweep(t.Context()); err != nil || n != 0 {
			t.Fatalf("sweep within NoWorkerAfter of the checks' creation: got %d, %v; want 0", n, err)
		}
		clock = f.base.Add(11 * time.Minute)
		if n, err := a.Sweep(t.Context()); err != nil || n != 2 {
			t.Fatalf("sweep: got %d, %v; want both checks", n, err)
		}
		if got := f.componentStatus(); got != incident.Operational {
			t.Errorf("component: got %s, want operational", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM incidents`); n != 0 {
			t.Errorf("incidents: got %d, want 0", n)
		}
	})
}
