package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

// componentFixture makes an organisation with one page and a component per
// entry of states, whose checks are in the states listed (a state with a
// "-" prefix is a disabled check's), and returns the organisation and the
// components' ids in order.
func componentFixture(t testing.TB, s *store.Store, slug string, states ...[]string) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	var org int64
	var comps []int64
	err := s.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.CreateOrg(ctx, slug, slug)
		if err != nil {
			return err
		}
		org = o.ID
		p, err := tx.CreatePage(ctx, store.Page{OrgID: org, Slug: slug, Title: slug, TimeZone: "UTC"})
		if err != nil {
			return err
		}
		var changes []store.StateChange
		for i, list := range states {
			c, err := tx.CreateComponent(ctx, store.Component{OrgID: org, PageID: p.ID, Name: fmt.Sprint("c", i)})
			if err != nil {
				return err
			}
			comps = append(comps, c.ID)
			for j, state := range list {
				ch, err := tx.CreateCheck(ctx, store.Check{OrgID: org, PageID: p.ID, ComponentID: c.ID, Name: fmt.Sprint("k", i, "-", j),
					URL: "https://api.example/", Spec: []byte(`{}`), Regions: []string{"fra"}, Interval: time.Minute})
				if err != nil {
					return err
				}
				if state[0] == '-' {
					state = state[1:]
					if _, err := tx.SetCheckEnabled(ctx, org, ch.ID, false); err != nil {
						return err
					}
				}
				changes = append(changes, store.StateChange{OrgID: org, ID: ch.ID, State: state, At: time.Now()})
			}
		}
		return tx.SetCheckStates(ctx, changes)
	})
	if err != nil {
		t.Fatal(err)
	}
	return org, comps
}

// TestComponentCheckStates reads each component's distinct check states
// on both backends: every state once however many checks are in it,
// disabled checks left out, a component without enabled checks absent, and
// another organisation's component not found under this one.
func TestComponentCheckStates(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, comps := componentFixture(t, s, "acme",
			[]string{"up", "down", "up", "degraded", "up", "-unknown", "down"},
			[]string{"unknown", "up"},
			[]string{"-down"},
			[]string{"up", "up", "up"})
		other, theirs := componentFixture(t, s, "other", []string{"down"})
		var got, elsewhere map[int64][]incident.State
		err := s.InTx(ctx, func(tx *store.Tx) (err error) {
			if got, err = tx.ComponentCheckStates(ctx, map[int64][]int64{org: comps, other: theirs}); err != nil {
				return err
			}
			elsewhere, err = tx.ComponentCheckStates(ctx, map[int64][]int64{org: theirs})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, states := range got {
			slices.Sort(states)
		}
		want := map[int64][]incident.State{
			comps[0]:  {"degraded", "down", "up"},
			comps[1]:  {"unknown", "up"},
			comps[3]:  {"up"},
			theirs[0]: {"down"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("component check states (-want +got):\n%s", diff)
		}
		if len(elsewhere) != 0 {
			t.Errorf("another organisation's component gave %v, want nothing", elsewhere)
		}
	})
}

// BenchmarkComponentCheckStates reads the states of one component of
// 10,000 checks in four states, as the aggregator does each time one of
// them changes state:
//
//	go test ./app/store -run '^$' -bench ComponentCheckStates
func BenchmarkComponentCheckStates(b *testing.B) {
	storetest.BenchBackends(b, func(b *testing.B, s *store.Store) {
		ctx := context.Background()
		states := make([]string, 10_000)
		for i := range states {
			states[i] = []string{"up", "up", "up", "degraded", "down", "unknown"}[i%6]
		}
		org, comps := componentFixture(b, s, "bench", states)
		b.ResetTimer()
		for range b.N {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				got, err := tx.ComponentCheckStates(ctx, map[int64][]int64{org: comps})
				if err == nil && len(got[comps[0]]) != 4 {
					err = fmt.Errorf("got states %v, want 4", got)
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
