package store_test

import (
	"context"
	"errors"
	"testing"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

func TestSetComponentStatusBy(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		w, err := s.SetComponentStatusBy(ctx, a.orgID, editor, a.comps[0], incident.DegradedPerformance, 0, true)
		if err != nil || w.PageSlug != "a" {
			t.Fatalf("SetComponentStatusBy = %+v, %v; want page a", w, err)
		}
		if got := componentStatus(t, s, a.orgID, a.comps[0]); got != incident.DegradedPerformance {
			t.Errorf("status %s, want degraded_performance", got)
		}
		if _, ok := auditActions(t, s, a.orgID)["component.status"]; !ok {
			t.Error("no component.status audit row")
		}
		if ev := outboxRows(t, s, a.orgID)[store.EventComponentUpdated]; len(ev) != 1 || ev[0]["old_status"] != incident.Operational {
			t.Errorf("component.updated events %v; want one from operational", ev)
		}
		if _, err := s.SetComponentStatusBy(ctx, a.orgID, editor, a.comps[0], "sideways", 0, true); !errors.As(err, new(*store.InvalidError)) {
			t.Errorf("unknown status: got %v, want an InvalidError", err)
		}
	})
}
