package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestStatuspageAccess: viewers read but never write, other organisations'
// pages, incidents and components are 404 whatever the key's role, and bad
// bodies are refused with Statuspage's {"error": …}.
func TestStatuspageAccess(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		editor := spClient{t: t, b: br, page: "a-status", header: oauth(a.EditTok)}
		var in spIncident
		editor.call(http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{"name": "Slow", "body": "Slow pages."}},
			http.StatusCreated, &in)
		if in.Status != "investigating" || in.Impact != "none" || !in.IncidentUpdates[0].DeliverNotifications {
			t.Errorf("defaults: status %s impact %s deliver %v; want investigating, none, true", in.Status, in.Impact, in.IncidentUpdates[0].DeliverNotifications)
		}
		comp := webtest.ID(a.CompID)
		incident := map[string]any{"incident": map[string]any{"name": "x", "status": "investigating"}}
		component := map[string]any{"component": map[string]any{"status": "major_outage"}}
		writes := []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, "/incidents", incident},
			{http.MethodPatch, "/incidents/" + in.ID, incident},
			{http.MethodPut, "/incidents/" + in.ID, incident},
			{http.MethodDelete, "/incidents/" + in.ID, nil},
			{http.MethodPatch, "/components/" + comp, component},
			{http.MethodPut, "/components/" + comp, component},
		}
		viewer := spClient{t: t, b: br, page: "a-status", header: oauth(a.ViewTok)}
		for _, w := range writes {
			if res := viewer.do(w.method, w.path, w.body); res.Code != http.StatusForbidden {
				t.Errorf("viewer %s %s: got %d, want 403", w.method, w.path, res.Code)
			}
		}
		for _, path := range []string{"/incidents", "/incidents/unresolved", "/incidents/scheduled", "/incidents/upcoming",
			"/incidents/active_maintenance", "/incidents/" + in.ID, "/components", "/components/" + comp} {
			if res := viewer.do(http.MethodGet, path, nil); res.Code != http.StatusOK {
				t.Errorf("viewer GET %s: got %d %s, want 200", path, res.Code, res.Body)
			}
		}
		if res := br.Do(http.MethodGet, "/api/v1/pages/a-status/incidents", nil, nil); res.Code != http.StatusUnauthorized {
			t.Errorf("no key: got %d, want 401", res.Code)
		}
		if res := br.Do(http.MethodGet, "/api/v1/pages/a-status/incidents", nil, map[string]string{"Authorization": "Basic " + a.EditTok}); res.Code != http.StatusUnauthorized {
			t.Errorf("Basic scheme: got %d, want 401", res.Code)
		}

		// B's owner key, on A's page (by slug and by id) and on A's ids under B's own page.
		for _, page := range []string{"a-status", webtest.ID(a.PageID)} {
			other := spClient{t: t, b: br, page: page, header: webtest.Bearer(b.OwnerTok)}
			for _, w := range append(writes, struct {
				method, path string
				body         any
			}{http.MethodGet, "/incidents/" + in.ID, nil}, struct {
				method, path string
				body         any
			}{http.MethodGet, "/components", nil}) {
				if res := other.do(w.method, w.path, w.body); res.Code != http.StatusNotFound || !strings.Contains(res.Body, `"error"`) {
					t.Errorf("b %s %s on page %s: got %d %s, want 404 with an error", w.method, w.path, page, res.Code, res.Body)
				}
			}
		}
		own := spClient{t: t, b: br, page: "b-status", header: webtest.Bearer(b.OwnerTok)}
		for _, w := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/incidents/" + in.ID, nil},
			{http.MethodPatch, "/incidents/" + in.ID, incident},
			{http.MethodDelete, "/incidents/" + in.ID, nil},
			{http.MethodGet, "/components/" + comp, nil},
			{http.MethodPatch, "/components/" + comp, component},
			{http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{"name": "x", "components": map[string]string{comp: "major_outage"}}}},
			{http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{"name": "x", "component_ids": []string{comp}}}},
		} {
			if res := own.do(w.method, w.path, w.body); res.Code != http.StatusNotFound {
				t.Errorf("b %s %s with a's ids: got %d %s, want 404", w.method, w.path, res.Code, res.Body)
			}
		}
		var unresolved []spIncident
		editor.call(http.MethodGet, "/incidents/unresolved", nil, http.StatusOK, &unresolved)
		if len(unresolved) != 1 {
			t.Errorf("a's unresolved incidents after b's attempts: %d, want 1", len(unresolved))
		}
		if got, err := st.Component(t.Context(), a.Org.ID, a.CompID); err != nil || got.Status != "operational" {
			t.Errorf("a's component after b's attempts: %s, %v; want operational", got.Status, err)
		}

		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   string
			want   int
		}{
			{"malformed JSON", http.MethodPost, "/incidents", `{"incident": {"name": `, http.StatusBadRequest},
			{"no wrapper", http.MethodPost, "/incidents", `{"name": "x"}`, http.StatusBadRequest},
			{"wrong type", http.MethodPost, "/incidents", `{"incident": {"name": 5}}`, http.StatusBadRequest},
			{"unknown status", http.MethodPost, "/incidents", `{"incident": {"name": "x", "status": "on_fire"}}`, http.StatusUnprocessableEntity},
			{"unknown impact", http.MethodPost, "/incidents", `{"incident": {"name": "x", "impact_override": "apocalyptic"}}`, http.StatusUnprocessableEntity},
			{"no name", http.MethodPost, "/incidents", `{"incident": {"status": "identified"}}`, http.StatusUnprocessableEntity},
			{"unknown component status", http.MethodPost, "/incidents", `{"incident": {"name": "x", "components": {"` + comp + `": "down"}}}`, http.StatusUnprocessableEntity},
			{"bad backfill date", http.MethodPost, "/incidents", `{"incident": {"name": "x", "backfilled": true, "backfill_date": "last week"}}`, http.StatusUnprocessableEntity},
			{"maintenance status on an incident", http.MethodPatch, "/incidents/" + in.ID, `{"incident": {"status": "verifying"}}`, http.StatusUnprocessableEntity},
			{"unknown component status on PATCH", http.MethodPatch, "/components/" + comp, `{"component": {"status": "sideways"}}`, http.StatusUnprocessableEntity},
			{"incident id not a number", http.MethodGet, "/incidents/abc", ``, http.StatusNotFound},
		} {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			res := br.Do(tc.method, "/api/v1/pages/a-status"+tc.path, body, oauth(a.EditTok))
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(res.Body), &e); res.Code != tc.want || err != nil || e.Error == "" {
				t.Errorf("%s: got %d %s, want %d with {\"error\": …}", tc.name, res.Code, res.Body, tc.want)
			}
		}
	})
}

// TestStatuspageBackfill: a backfilled incident is created resolved at its
// date, without notifications.
func TestStatuspageBackfill(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		c := spClient{t: t, b: br, page: webtest.ID(a.PageID), header: webtest.Bearer(a.EditTok)}
		var in spIncident
		c.call(http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{
			"name": "Last year's outage", "body": "It happened.", "backfilled": true, "backfill_date": "2025-11-02",
			"impact_override": "major"}}, http.StatusCreated, &in)
		if in.Status != "resolved" || !strings.HasPrefix(in.StartedAt, "2025-11-02T00:00:00") || in.Impact != "major" ||
			in.IncidentUpdates[0].DeliverNotifications {
			t.Errorf("backfilled %+v; want resolved, started 2025-11-02, impact major, no notifications", in)
		}
	})
}
