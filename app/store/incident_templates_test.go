package store_test

import (
	"context"
	"errors"
	"testing"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestIncidentTemplates(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		b := seedPublic(t, s, "b")
		tpl, err := s.SaveIncidentTemplate(ctx, a.orgID, editor, store.IncidentTemplate{PageID: a.pageID, Name: "CDN", Title: "Images slow",
			Body: "We see slow images.", Components: map[int64]string{a.comps[0]: incident.DegradedPerformance}})
		if err != nil {
			t.Fatal(err)
		}
		if tpl.Status != store.IncidentInvestigating || tpl.Components[a.comps[0]] != incident.DegradedPerformance {
			t.Errorf("saved template %+v; want status investigating and the component's status", tpl)
		}
		tpl.Title = "Images are slow"
		if tpl, err = s.SaveIncidentTemplate(ctx, a.orgID, editor, tpl); err != nil || tpl.Title != "Images are slow" {
			t.Errorf("update: %+v, %v", tpl, err)
		}
		if _, err := s.SaveIncidentTemplate(ctx, a.orgID, editor, store.IncidentTemplate{PageID: a.pageID, Name: "CDN"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate name: %v, want ErrConflict", err)
		}
		if _, err := s.SaveIncidentTemplate(ctx, b.orgID, editor, store.IncidentTemplate{PageID: b.pageID, Name: "x",
			Components: map[int64]string{a.comps[0]: incident.Operational}}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("b's template with a's component: %v, want ErrNotFound", err)
		}
		if _, err := s.IncidentTemplate(ctx, b.orgID, tpl.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("b reads a's template: %v, want ErrNotFound", err)
		}
		if err := s.DeleteIncidentTemplate(ctx, b.orgID, editor, tpl.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("b deletes a's template: %v, want ErrNotFound", err)
		}
		if list, err := s.IncidentTemplates(ctx, a.orgID, a.pageID); err != nil || len(list) != 1 {
			t.Errorf("templates %+v, %v; want one", list, err)
		}
		if err := s.DeleteIncidentTemplate(ctx, a.orgID, editor, tpl.ID); err != nil {
			t.Fatal(err)
		}
		if list, err := s.IncidentTemplates(ctx, a.orgID, a.pageID); err != nil || len(list) != 0 {
			t.Errorf("templates after delete %+v, %v; want none", list, err)
		}
	})
}
