package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/app/store/storetest"
)

var editor = store.Actor{Name: "token:test"}

// outboxRows returns the organisation's outbox events: kind → payloads.
func outboxRows(t *testing.T, s *store.Store, orgID int64) map[string][]map[string]any {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), rebind(s, `SELECT kind, payload FROM outbox WHERE org_id = ? ORDER BY id`), orgID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]map[string]any{}
	for rows.Next() {
		var kind, payload string
		if err := rows.Scan(&kind, &payload); err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			t.Fatal(err)
		}
		out[kind] = append(out[kind], p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, s *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), rebind(s, query), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func componentStatus(t *testing.T, s *store.Store, orgID, id int64) string {
	t.Helper()
	c, err := s.Component(context.Background(), orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func auditActions(t *testing.T, s *store.Store, orgID int64) map[string]store.AuditEntry {
	t.Helper()
	log, err := s.AuditLog(context.Background(), orgID, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.AuditEntry{}
	for _, e := range log {
		if _, ok := out[e.Action]; !ok { // newest first: keep the latest of each
			out[e.Action] = e
		}
	}
	return out
}

func TestWrittenIncidentLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		apiID, webID := a.comps[0], a.comps[1]

		w, err := s.CreateIncident(ctx, a.orgID, editor, store.NewIncident{PageID: a.pageID, Name: "Outage",
			Status: store.IncidentInvestigating, Body: "We are looking.", DeliverNotifications: true,
			Components: []store.ComponentStatusChange{{ComponentID: apiID, Status: incident.MajorOutage}, {ComponentID: webID, Status: incident.DegradedPerformance}}})
		if err != nil {
			t.Fatal(err)
		}
		if w.PageSlug != "a" || w.IncidentID == 0 || w.UpdateID == 0 {
			t.Fatalf("CreateIncident = %+v; want ids and page slug a", w)
		}
		if got := componentStatus(t, s, a.orgID, apiID); got != incident.MajorOutage {
			t.Errorf("api status = %s, want major_outage", got)
		}
		if got := componentStatus(t, s, a.orgID, webID); got != incident.DegradedPerformance {
			t.Errorf("web status = %s, want degraded_performance", got)
		}
		if _, err := s.AddIncidentUpdate(ctx, a.orgID, editor, w.IncidentID, store.IncidentChangeInput{
			Status: store.IncidentMonitoring, Body: "A fix is out.", DeliverNotifications: true}); err != nil {
			t.Fatal(err)
		}
		r, err := s.AddIncidentUpdate(ctx, a.orgID, editor, w.IncidentID, store.IncidentChangeInput{
			Status: store.IncidentResolved, Body: "Fixed.", DeliverNotifications: true,
			Components: []store.ComponentStatusChange{{ComponentID: apiID, Status: incident.Operational}, {ComponentID: webID, Status: incident.Operational}}})
		if err != nil {
			t.Fatal(err)
		}

		in, err := s.ConsoleIncidentByID(ctx, a.orgID, w.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != store.IncidentResolved || in.ResolvedAt == nil || in.MonitoringAt == nil {
			t.Errorf("incident status %s resolved %v monitoring %v; want resolved with both times", in.Status, in.ResolvedAt, in.MonitoringAt)
		}
		if in.Impact != "critical" {
			t.Errorf("impact = %s, want critical (derived from major_outage, kept after the resolve)", in.Impact)
		}
		if len(in.Updates) != 3 {
			t.Fatalf("got %d updates, want 3", len(in.Updates))
		}
		first, last := in.Updates[2], in.Updates[0]
		want := map[int64][2]string{apiID: {incident.Operational, incident.MajorOutage}, webID: {incident.Operational, incident.DegradedPerformance}}
		if got := changes(first.Affected); !equalChanges(got, want) {
			t.Errorf("first update affected %v, want %v", got, want)
		}
		if len(in.Updates[1].Affected) != 0 {
			t.Errorf("monitoring update affected %v, want none", in.Updates[1].Affected)
		}
		want = map[int64][2]string{apiID: {incident.MajorOutage, incident.Operational}, webID: {incident.DegradedPerformance, incident.Operational}}
		if got := changes(last.Affected); last.ID != r.UpdateID || !equalChanges(got, want) {
			t.Errorf("resolve update %d affected %v, want update %d with %v", last.ID, got, r.UpdateID, want)
		}
		want = map[int64][2]string{apiID: {incident.Operational, incident.Operational}, webID: {incident.Operational, incident.Operational}}
		if got := changes(in.Components); !equalChanges(got, want) {
			t.Errorf("incident components %v, want %v (old = before the incident)", got, want)
		}

		actions := auditActions(t, s, a.orgID)
		for _, action := range []string{"incident.create", "incident.update"} {
			if e, ok := actions[action]; !ok || e.Actor != editor.Name {
				t.Errorf("audit %s = %+v; want a row by %s", action, e, editor.Name)
			}
		}
		events := outboxRows(t, s, a.orgID)
		for kind, n := range map[string]int{store.EventIncidentCreated: 1, store.EventIncidentUpdated: 1,
			store.EventIncidentResolved: 1, store.EventComponentUpdated: 4} {
			if len(events[kind]) != n {
				t.Errorf("outbox %s: got %d events, want %d", kind, len(events[kind]), n)
			}
		}
		if p := events[store.EventIncidentCreated]; len(p) == 1 && (p[0]["deliver_notifications"] != true || p[0]["page_slug"] != "a") {
			t.Errorf("incident.created payload %v; want deliver_notifications true and page_slug a", p[0])
		}

		if _, err := s.SetPostmortem(ctx, a.orgID, editor, w.IncidentID, "What happened.", false); err != nil {
			t.Fatal(err)
		}
		in, err = s.ConsoleIncidentByID(ctx, a.orgID, w.IncidentID)
		if err != nil || in.Status != store.IncidentPostmortem || in.Postmortem != "What happened." {
			t.Errorf("after SetPostmortem: status %s postmortem %q, %v; want postmortem", in.Status, in.Postmortem, err)
		}
		if got := outboxRows(t, s, a.orgID)[store.EventIncidentPostmortem]; len(got) != 1 || got[0]["deliver_notifications"] != false {
			t.Errorf("incident.postmortem events %v; want one with deliver_notifications false", got)
		}
	})
}

func changes(as []store.AffectedComponent) map[int64][2]string {
	out := map[int64][2]string{}
	for _, a := range as {
		out[a.ComponentID] = [2]string{a.OldStatus, a.NewStatus}
	}
	return out
}

func equalChanges(a, b map[int64][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWrittenIncidentImpactAndValidation(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		major := []store.ComponentStatusChange{{ComponentID: a.comps[0], Status: incident.PartialOutage}}

		for _, tc := range []struct {
			name, impact, want string
			comps              []store.ComponentStatusChange
		}{
			{"derived from partial outage", "", "major", major},
			{"overridden", "minor", "minor", major},
			{"no components", "", "none", nil},
			{"maintenance", "", "none", []store.ComponentStatusChange{{ComponentID: a.comps[1], Status: incident.UnderMaintenance}}},
		} {
			w, err := s.CreateIncident(ctx, a.orgID, editor, store.NewIncident{PageID: a.pageID, Name: tc.name,
				Status: store.IncidentIdentified, Impact: tc.impact, Components: tc.comps})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			in, err := s.ConsoleIncidentByID(ctx, a.orgID, w.IncidentID)
			if err != nil || in.Impact != tc.want {
				t.Errorf("%s: impact %q, %v; want %q", tc.name, in.Impact, err, tc.want)
			}
		}

		started := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
		w, err := s.CreateIncident(ctx, a.orgID, editor, store.NewIncident{PageID: a.pageID, Name: "Old", Status: store.IncidentInvestigating,
			Body: "Happened.", Backfilled: true, DeliverNotifications: true, StartedAt: started})
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.ConsoleIncidentByID(ctx, a.orgID, w.IncidentID)
		if err != nil || in.Status != store.IncidentResolved || !in.StartedAt.Equal(started) || in.Updates[0].DeliverNotifications ||
			in.ResolvedAt == nil || !in.ResolvedAt.Equal(started) || !in.Updates[0].DisplayAt.Equal(started) {
			t.Errorf("backfilled: status %s started %v resolved %v deliver %v, %v; want resolved, started, resolved and shown at %v, no notifications",
				in.Status, in.StartedAt, in.ResolvedAt, in.Updates[0].DeliverNotifications, err, started)
		}
		if p := outboxRows(t, s, a.orgID)[store.EventIncidentResolved]; len(p) != 1 || p[0]["deliver_notifications"] != false {
			t.Errorf("backfilled events %v; want one incident.resolved without notifications", p)
		}

		for _, tc := range []struct {
			name, field string
			n           store.NewIncident
		}{
			{"status", "status", store.NewIncident{PageID: a.pageID, Name: "x", Status: "broken"}},
			{"postmortem status", "status", store.NewIncident{PageID: a.pageID, Name: "x", Status: store.IncidentPostmortem}},
			{"impact", "impact", store.NewIncident{PageID: a.pageID, Name: "x", Status: store.IncidentInvestigating, Impact: "huge"}},
			{"name", "name", store.NewIncident{PageID: a.pageID, Status: store.IncidentInvestigating}},
			{"component status", "components", store.NewIncident{PageID: a.pageID, Name: "x", Status: store.IncidentInvestigating,
				Components: []store.ComponentStatusChange{{ComponentID: a.comps[0], Status: "down"}}}},
		} {
			_, err := s.CreateIncident(ctx, a.orgID, editor, tc.n)
			var ie *store.InvalidError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("%s: got %v, want an InvalidError on %s", tc.name, err, tc.field)
			}
		}
		_, err = s.AddIncidentUpdate(ctx, a.orgID, editor, w.IncidentID, store.IncidentChangeInput{Status: "fixed"})
		if ie := (*store.InvalidError)(nil); !errors.As(err, &ie) {
			t.Errorf("update with status fixed: got %v, want an InvalidError", err)
		}
	})
}

func TestWrittenIncidentsAreOrgScoped(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		b := seedPublic(t, s, "b")
		w, err := s.CreateIncident(ctx, a.orgID, editor, store.NewIncident{PageID: a.pageID, Name: "A's", Status: store.IncidentInvestigating,
			Body: "a", Components: []store.ComponentStatusChange{{ComponentID: a.comps[0], Status: incident.MajorOutage}}})
		if err != nil {
			t.Fatal(err)
		}
		bad := map[string]func() error{
			"create on a's page": func() error {
				_, err := s.CreateIncident(ctx, b.orgID, editor, store.NewIncident{PageID: a.pageID, Name: "x", Status: store.IncidentInvestigating})
				return err
			},
			"create with a's component": func() error {
				_, err := s.CreateIncident(ctx, b.orgID, editor, store.NewIncident{PageID: b.pageID, Name: "x", Status: store.IncidentInvestigating,
					Components: []store.ComponentStatusChange{{ComponentID: a.comps[0], Status: incident.Operational}}})
				return err
			},
			"update a's incident": func() error {
				_, err := s.AddIncidentUpdate(ctx, b.orgID, editor, w.IncidentID, store.IncidentChangeInput{Body: "x"})
				return err
			},
			"edit a's update": func() error {
				_, err := s.EditUpdateBody(ctx, b.orgID, editor, w.IncidentID, w.UpdateID, "x")
				return err
			},
			"postmortem a's incident": func() error {
				_, err := s.SetPostmortem(ctx, b.orgID, editor, w.IncidentID, "x", false)
				return err
			},
			"delete a's incident": func() error {
				_, err := s.DeleteIncident(ctx, b.orgID, editor, w.IncidentID)
				return err
			},
			"publish a's incident": func() error {
				_, err := s.PublishDraft(ctx, b.orgID, editor, w.IncidentID)
				return err
			},
			"set a's component": func() error {
				_, err := s.SetComponentStatusBy(ctx, b.orgID, editor, a.comps[0], incident.Operational, 0, false)
				return err
			},
			"read a's incident": func() error {
				_, err := s.ConsoleIncidentByID(ctx, b.orgID, w.IncidentID)
				return err
			},
		}
		for name, fn := range bad {
			if err := fn(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s from b: got %v, want ErrNotFound", name, err)
			}
		}
		if list, err := s.OrgIncidents(ctx, b.orgID, 0); err != nil || len(list) != 0 {
			t.Errorf("b's incidents: %d, %v; want none", len(list), err)
		}
		if got := componentStatus(t, s, a.orgID, a.comps[0]); got != incident.MajorOutage {
			t.Errorf("a's component status %s after b's attempts, want major_outage", got)
		}
	})
}

func TestEditDeleteAndDrafts(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := seedPublic(t, s, "a")
		w, err := s.CreateIncident(ctx, a.orgID, editor, store.NewIncident{PageID: a.pageID, Name: "Typo", Status: store.IncidentInvestigating,
			Body: "Teh API", Components: []store.ComponentStatusChange{{ComponentID: a.comps[0], Status: incident.PartialOutage}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EditUpdateBody(ctx, a.orgID, editor, w.IncidentID, w.UpdateID, "The API"); err != nil {
			t.Fatal(err)
		}
		in, err := s.ConsoleIncidentByID(ctx, a.orgID, w.IncidentID)
		if err != nil || in.Updates[0].Body != "The API" || in.Updates[0].EditedAt == nil {
			t.Errorf("edited update %+v, %v; want body 'The API' and edited_at", in.Updates, err)
		}
		var detail map[string]any
		if err := json.Unmarshal(auditActions(t, s, a.orgID)["incident.update.edit"].Detail, &detail); err != nil ||
			detail["old_body"] != "Teh API" || detail["new_body"] != "The API" {
			t.Errorf("edit audit detail %v, %v; want old and new text", detail, err)
		}

		list, err := s.OrgIncidents(ctx, a.orgID, 0)
		if err != nil || len(list) != 1 || list[0].PageSlug != "a" {
			t.Errorf("OrgIncidents = %+v, %v; want the one incident on page a", list, err)
		}
		if _, err := s.DeleteIncident(ctx, a.orgID, editor, w.IncidentID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsoleIncidentByID(ctx, a.orgID, w.IncidentID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted incident: got %v, want ErrNotFound", err)
		}
		for _, table := range []string{"incident_updates", "incident_components", "incident_update_components"} {
			if n := count(t, s, `SELECT COUNT(*) FROM `+table+` WHERE org_id = ?`, a.orgID); n != 0 {
				t.Errorf("%s keeps %d rows of the deleted incident", table, n)
			}
		}
		var del map[string]any
		if err := json.Unmarshal(auditActions(t, s, a.orgID)["incident.delete"].Detail, &del); err != nil || del["name"] != "Typo" {
			t.Errorf("delete audit detail %v, %v; want the name", del, err)
		}

		// Drafts: published ones become public and tell subscribers; discarded ones go.
		var drafts []int64
		for _, name := range []string{"keep", "drop"} {
			d, err := s.CreateIncident(ctx, a.orgID, editor, store.NewIncident{PageID: a.pageID, Name: name, Status: store.IncidentInvestigating, Body: name})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.DB().ExecContext(ctx, rebind(s, `UPDATE incidents SET draft = TRUE WHERE id = ?`), d.IncidentID); err != nil {
				t.Fatal(err)
			}
			drafts = append(drafts, d.IncidentID)
		}
		if _, err := s.DiscardDraft(ctx, a.orgID, editor, drafts[0]+drafts[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("discard an incident that does not exist: %v, want ErrNotFound", err)
		}
		if _, err := s.PublishDraft(ctx, a.orgID, editor, drafts[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DiscardDraft(ctx, a.orgID, editor, drafts[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PublishDraft(ctx, a.orgID, editor, drafts[0]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("publish twice: %v, want ErrNotFound", err)
		}
		public, err := s.PublicIncidents(ctx, a.orgID, a.pageID, store.IncidentFilter{})
		if err != nil || len(public) != 1 || public[0].ID != drafts[0] {
			t.Errorf("public incidents %+v, %v; want only the published draft", public, err)
		}
		if _, err := s.DiscardDraft(ctx, a.orgID, editor, drafts[0]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("discard a published incident: %v, want ErrNotFound", err)
		}
		if ev := outboxRows(t, s, a.orgID)[store.EventIncidentCreated]; len(ev) != 4 {
			t.Errorf("incident.created events: %d, want 4 (three created, one published)", len(ev))
		}
	})
}
