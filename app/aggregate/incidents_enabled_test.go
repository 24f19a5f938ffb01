package aggregate

import (
	"context"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestDisabledCheckLeavesItsIncident: an automatic incident keeps only
// enabled checks among those it remembers; a check paused while its
// component's incident is open drops out at the next batch that judges
// the component, even though that batch carries no result of its own.
func TestDisabledCheckLeavesItsIncident(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, 2)
		a := f.aggregator(Options{})
		for round := 1; round <= 2; round++ {
			process(t, a, append(f.round(round, all(probes.StateDown), 0), f.round(round, all(probes.StateDown), 1)...))
		}
		state := func() string {
			var st string
			if err := s.DB().QueryRow(`SELECT auto_state FROM incidents WHERE resolved_at IS NULL`).Scan(&st); err != nil {
				t.Fatal(err)
			}
			return st
		}
		both := decodeAutoState(state())
		if len(both.Checks) != 2 {
			t.Fatalf("open incident remembers %d checks, want both: %s", len(both.Checks), state())
		}
		if _, err := s.SetCheckEnabledBy(context.Background(), f.org, store.Actor{}, f.checks[0].ID, false); err != nil {
			t.Fatal(err)
		}
		process(t, a, f.round(3, all(probes.StateDown), 1))
		after := decodeAutoState(state())
		if len(after.Checks) != 1 || after.Checks[0].ID != f.checks[1].ID {
			t.Errorf("after pausing check 0 the incident remembers %+v, want check 1 alone", after.Checks)
		}
	})
}
