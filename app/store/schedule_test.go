package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// scheduleFixture creates an organisation with a page and a component and
// returns a function that adds a check to it.
func scheduleFixture(t *testing.T, s *store.Store, slug string) func(name string) store.Check {
	t.Helper()
	ctx := context.Background()
	org, err := s.CreateOrg(ctx, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	var page store.Page
	var comp store.Component
	err = s.InTx(ctx, func(tx *store.Tx) error {
		if page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: slug, Title: slug, TimeZone: "UTC"}); err != nil {
			return err
		}
		comp, err = tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: page.ID, Name: "API"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(name string) store.Check {
		t.Helper()
		var c store.Check
		err := s.InTx(ctx, func(tx *store.Tx) error {
			c, err = tx.CreateCheck(ctx, store.Check{OrgID: org.ID, PageID: page.ID, ComponentID: comp.ID, Name: name,
				URL: "https://x.example/", Spec: json.RawMessage(`{"url":"https://x.example/"}`),
				Regions: []string{"fra", "iad"}, Interval: time.Minute})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func TestEnabledChecksAndVersion(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		version := func() string {
			t.Helper()
			v, err := s.ChecksVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		empty := version()
		a := scheduleFixture(t, s, "a")("one")
		b := scheduleFixture(t, s, "b")("two")
		v1 := version()
		if v1 == empty {
			t.Fatalf("version %q did not change when checks were created", v1)
		}
		got, err := s.EnabledChecks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID || got[0].OrgID == got[1].OrgID {
			t.Fatalf("got %+v, want both organisations' checks by id", got)
		}
		if got[0].Interval != time.Minute || len(got[0].Regions) != 2 || string(got[0].Spec) != `{"url":"https://x.example/"}` {
			t.Errorf("got %+v, want interval, regions and spec as created", got[0])
		}
		if v := version(); v != v1 {
			t.Errorf("version moved from %q to %q without a write", v1, v)
		}

		time.Sleep(2 * time.Millisecond) // updated_at must differ
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.SetCheckEnabled(ctx, a.OrgID, a.ID, false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		v2 := version()
		if v2 == v1 {
			t.Errorf("version %q did not change when a check was disabled", v2)
		}
		if got, err = s.EnabledChecks(ctx); err != nil || len(got) != 1 || got[0].ID != b.ID {
			t.Errorf("got %+v, %v; want only the enabled check %d", got, err, b.ID)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: b.OrgID, ID: b.ID, State: "down", At: time.Now()}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v2 {
			t.Errorf("version moved from %q to %q on a state change, which needs no reload", v2, v)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteCheck(ctx, b.OrgID, b.ID) })
		if err != nil {
			t.Fatal(err)
		}
		v3 := version()
		if v3 == v2 {
			t.Errorf("version %q did not change when a check was deleted", v3)
		}
		// A check deleted with its component (ON DELETE CASCADE) moves it too.
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteComponent(ctx, a.OrgID, a.ComponentID) })
		if err != nil {
			t.Fatal(err)
		}
		if v := version(); v == v3 {
			t.Errorf("version %q did not change when a check went with its component", v)
		}
		if got, err = s.EnabledChecks(ctx); err != nil || len(got) != 0 {
			t.Errorf("got %+v, %v; want no checks left", got, err)
		}
	})
}

// BenchmarkChecksVersion reads the catalogue's version with 10,000
// checks in the catalogue, as the scheduler's leader does every two
// seconds:
//
//	go test ./app/store -run '^$' -bench ChecksVersion
func BenchmarkChecksVersion(b *testing.B) {
	storetest.BenchBackends(b, func(b *testing.B, s *store.Store) {
		ctx := context.Background()
		states := make([]string, 10_000)
		for i := range states {
			states[i] = "up"
		}
		componentFixture(b, s, "bench", states)
		for b.Loop() {
			if _, err := s.ChecksVersion(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
