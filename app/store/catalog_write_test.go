package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestCatalogWrites(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, err := s.CreateOrg(ctx, "ACME", "acme")
		if err != nil {
			t.Fatal(err)
		}
		var page store.Page
		var comp store.Component
		var check store.Check
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if page, err = tx.CreatePage(ctx, store.Page{OrgID: org.ID, Slug: "acme", Title: "ACME", TimeZone: "UTC", Regions: []string{"fra"}}); err != nil {
				return err
			}
			g, err := tx.CreateComponentGroup(ctx, store.ComponentGroup{OrgID: org.ID, PageID: page.ID, Name: "Edge"})
			if err != nil {
				return err
			}
			if comp, err = tx.CreateComponent(ctx, store.Component{OrgID: org.ID, PageID: page.ID, GroupID: &g.ID, Name: "Media", Position: 1}); err != nil {
				return err
			}
			check = store.Check{OrgID: org.ID, PageID: page.ID, ComponentID: comp.ID, Name: "images", URL: "https://m.example/",
				Spec: json.RawMessage(`{"url":"https://m.example/"}`), Regions: []string{"fra", "iad"}, Interval: 30 * time.Second, ConfirmRounds: 2}
			if check, err = tx.CreateCheck(ctx, check); err != nil {
				return err
			}
			_, err = tx.CreateMaintenanceWindow(ctx, store.MaintenanceWindow{OrgID: org.ID, PageID: page.ID, Name: "weekly",
				Schedule: "0 8 * * THU", Duration: 2 * time.Hour, TimeZone: "Europe/Berlin", ComponentIDs: []int64{comp.ID}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		got, err := s.Check(ctx, org.ID, check.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Interval != 30*time.Second || string(got.Spec) != `{"url":"https://m.example/"}` || !got.Enabled || got.State != "unknown" {
			t.Errorf("got %+v, want the check as created, enabled, state unknown", got)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			ws, err := tx.MaintenanceWindows(ctx, org.ID, page.ID)
			if err != nil {
				return err
			}
			if len(ws) != 1 || ws[0].Duration != 2*time.Hour || ws[0].Status != "scheduled" {
				t.Errorf("got %+v, want one scheduled 2h window", ws)
			}
			if diff := cmp.Diff([]int64{comp.ID}, ws[0].ComponentIDs); diff != "" {
				t.Errorf("window components (-want +got):\n%s", diff)
			}
			ws[0].ComponentIDs = nil
			ws[0].Duration = time.Hour
			if err := tx.UpdateMaintenanceWindow(ctx, ws[0]); err != nil {
				return err
			}
			ws, err = tx.MaintenanceWindows(ctx, org.ID, page.ID)
			if err != nil {
				return err
			}
			if ws[0].Duration != time.Hour || len(ws[0].ComponentIDs) != 0 {
				t.Errorf("got %+v, want 1h and no components after the update", ws[0])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A transaction of one organisation can neither read, change, delete nor
// attach rows to another organisation's catalogue.
func TestCatalogWritesAreOrgScoped(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := s.CreateOrg(ctx, "A", "a")
		b, _ := s.CreateOrg(ctx, "B", "b")
		var pageA store.Page
		var compA store.Component
		var checkA store.Check
		err := s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if pageA, err = tx.CreatePage(ctx, store.Page{OrgID: a.ID, Slug: "a", Title: "A", TimeZone: "UTC", Domain: "status.a.example"}); err != nil {
				return err
			}
			if compA, err = tx.CreateComponent(ctx, store.Component{OrgID: a.ID, PageID: pageA.ID, Name: "Web"}); err != nil {
				return err
			}
			checkA, err = tx.CreateCheck(ctx, store.Check{OrgID: a.ID, PageID: pageA.ID, ComponentID: compA.ID, Name: "home",
				URL: "https://a.example/", Spec: json.RawMessage(`{}`), Interval: time.Minute, ConfirmRounds: 2})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.PageBySlug(ctx, b.ID, "a"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B reading A's page: got %v, want ErrNotFound", err)
			}
			slugTaken, domainTaken, err := tx.PageSlugDomainTaken(ctx, "a", "status.a.example", 0)
			if err != nil || !slugTaken || !domainTaken {
				t.Errorf("got slug taken %v, domain taken %v, err %v; want both taken", slugTaken, domainTaken, err)
			}
			if _, _, err := tx.PageSlugDomainTaken(ctx, "a", "", pageA.ID); err != nil {
				t.Error(err)
			}
			if _, err := tx.CreatePage(ctx, store.Page{OrgID: b.ID, Slug: "a", Title: "B", TimeZone: "UTC"}); !errors.Is(err, store.ErrConflict) {
				t.Errorf("B taking A's slug: got %v, want ErrConflict", err)
			}
			return errors.New("roll back") // the failed insert aborted the PostgreSQL transaction
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatalf("got %v, want the roll back", err)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			pageB, err := tx.CreatePage(ctx, store.Page{OrgID: b.ID, Slug: "b", Title: "B", TimeZone: "UTC"})
			if err != nil {
				return err
			}
			if _, err := tx.CreateComponent(ctx, store.Component{OrgID: b.ID, PageID: pageA.ID, Name: "X"}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B adding a component to A's page: got %v, want ErrNotFound", err)
			}
			if _, err := tx.CreateCheck(ctx, store.Check{OrgID: b.ID, PageID: pageB.ID, ComponentID: compA.ID, Name: "x", Interval: time.Minute}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B adding a check to A's component: got %v, want ErrNotFound", err)
			}
			if _, err := tx.CreateMaintenanceWindow(ctx, store.MaintenanceWindow{OrgID: b.ID, PageID: pageB.ID, Name: "w",
				Duration: time.Hour, TimeZone: "UTC", ComponentIDs: []int64{compA.ID}}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B covering A's component with a window: got %v, want ErrNotFound", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			compA.OrgID = b.ID
			if err := tx.UpdateComponent(ctx, compA); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B updating A's component: got %v, want ErrNotFound", err)
			}
			for name, del := range map[string]func() error{
				"check":     func() error { return tx.DeleteCheck(ctx, b.ID, checkA.ID) },
				"component": func() error { return tx.DeleteComponent(ctx, b.ID, compA.ID) },
			} {
				if err := del(); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("B deleting A's %s: got %v, want ErrNotFound", name, err)
				}
			}
			if cs, err := tx.Checks(ctx, b.ID, pageA.ID); err != nil || len(cs) != 0 {
				t.Errorf("B listing A's checks: got %v, %v; want none", cs, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx, a.ID, checkA.ID); err != nil {
			t.Errorf("A's check after B's attempts: %v", err)
		}
	})
}
