package store_test

import (
	"context"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

// TestIncidentEditsWithoutUpdate: a name or impact edit changes the
// incident without a timeline entry or a notification; a change that
// changes nothing writes nothing.
func TestIncidentEditsWithoutUpdate(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		w, err := s.CreateIncident(ctx, a.orgID, editor, store.NewIncident{PageID: a.pageID, Name: "Slow", Status: store.IncidentInvestigating, Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
		audits := func() int { return count(t, s, `SELECT COUNT(*) FROM audit_log WHERE org_id = ?`, a.orgID) }
		events := func() int { return count(t, s, `SELECT COUNT(*) FROM outbox WHERE org_id = ?`, a.orgID) }
		beforeAudit, beforeEvents := audits(), events()

		if _, err := s.AddIncidentUpdate(ctx, a.orgID, editor, w.IncidentID, store.IncidentChangeInput{DeliverNotifications: true}); err != nil {
			t.Fatal(err)
		}
		if audits() != beforeAudit || events() != beforeEvents {
			t.Errorf("an empty change wrote audit %d→%d, outbox %d→%d; want nothing", beforeAudit, audits(), beforeEvents, events())
		}
		r, err := s.AddIncidentUpdate(ctx, a.orgID, editor, w.IncidentID, store.IncidentChangeInput{Name: "Slow images", Impact: "major"})
		if err != nil || r.UpdateID != 0 {
			t.Fatalf("rename = %+v, %v; want no update", r, err)
		}
		in, err := s.ConsoleIncidentByID(ctx, a.orgID, w.IncidentID)
		if err != nil || in.Name != "Slow images" || in.Impact != "major" || len(in.Updates) != 1 {
			t.Errorf("after rename: %q impact %s with %d updates, %v; want the new name and impact, 1 update", in.Name, in.Impact, len(in.Updates), err)
		}
		if audits() != beforeAudit+1 || events() != beforeEvents {
			t.Errorf("rename wrote audit %d→%d, outbox %d→%d; want one audit row, no event", beforeAudit, audits(), beforeEvents, events())
		}
	})
}
