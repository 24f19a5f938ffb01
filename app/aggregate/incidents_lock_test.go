package aggregate

import (
	"context"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// openAutoState is the auto_state of the page's open automatic incident.
func (f *fixture) openAutoState() string {
	f.t.Helper()
	var st string
	if err := f.s.DB().QueryRow(`SELECT auto_state FROM incidents WHERE automatic AND resolved_at IS NULL`).Scan(&st); err != nil {
		f.t.Fatalf("open incident's state: %v", err)
	}
	return st
}

// openIncident is a component of two checks whose first is down two
// rounds in a row, so its automatic incident is open, on PostgreSQL: on
// SQLite, whose writers take turns whole, there is no row lock to test.
func openIncident(t *testing.T, s *store.Store) (*fixture, *Aggregator) {
	if s.Dialect() != store.Postgres {
		t.Skip("row locks are PostgreSQL's; a SQLite writer is alone")
	}
	f := newFixture(t, s, 2)
	a := f.aggregator(Options{})
	process(t, a, f.round(1, all(probes.StateDown), 0))
	process(t, a, f.round(2, all(probes.StateDown), 0))
	return f, a
}

// TestSteadyTroubleTakesNoIncidentLock: while another transaction holds
// the lock of a component's open incident, a batch that changes nothing
// of that incident (its check still down with the same problem) commits
// without waiting for it. On PostgreSQL only: SQLite has one writer.
func TestSteadyTroubleTakesNoIncidentLock(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f, a := openIncident(t, s)
		before := f.openAutoState()

		locked, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			held <- s.InTx(context.Background(), func(tx *store.Tx) error {
				if _, ok, err := tx.LockAutomaticIncident(context.Background(), f.org, f.comp.ID); err != nil || !ok {
					t.Errorf("lock the incident: open %v, %v", ok, err)
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := a.ProcessBatch(ctx, f.round(3, all(probes.StateDown), 0))
		cancel()
		close(release)
		if err != nil {
			t.Fatalf("a steady batch waited for the incident's lock: %v", err)
		}
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		if got := f.openAutoState(); got != before {
			t.Errorf("the steady batch changed the incident's state:\n%s\nwant\n%s", got, before)
		}
	})
}

// TestIncidentChangedMeanwhileIsJudgedAgain: a batch reads a component's
// open incident, then another aggregator adds its check's trouble to the
// incident before the batch writes. The batch's check recovered, which on
// the incident as first read would resolve it; judged again under lock on
// the incident as it is now, the incident stays open with the other
// check's trouble. On PostgreSQL only: on SQLite no writer comes between.
func TestIncidentChangedMeanwhileIsJudgedAgain(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		f, a := openIncident(t, s)
		onlyFirst := f.openAutoState()
		process(t, a, f.round(3, all(probes.StateDown), 0, 1))
		process(t, a, f.round(4, all(probes.StateDown), 0, 1))
		both := f.openAutoState()
		if both == onlyFirst {
			t.Fatal("the second check's trouble did not change the incident's state")
		}
		// As this batch will first read it: the other aggregator's write
		// of check 1 not there yet; it lands after the read.
		f.exec(`UPDATE incidents SET auto_state = '` + onlyFirst + `' WHERE resolved_at IS NULL`)
		a.afterIncidentsRead = func() {
			f.exec(`UPDATE incidents SET auto_state = '` + both + `' WHERE resolved_at IS NULL`)
		}
		process(t, a, f.round(5, all(probes.StateUp), 0))
		if n := f.count(`SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL`); n != 1 {
			t.Fatalf("open incidents after check 0 recovered with check 1 still down: got %d, want 1", n)
		}
		st := decodeAutoState(f.openAutoState())
		if len(st.Checks) != 1 || st.Checks[0].ID != f.checks[1].ID {
			t.Errorf("the incident remembers %+v, want check 1 (%d) alone", st.Checks, f.checks[1].ID)
		}
	})
}
