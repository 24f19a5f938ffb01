package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/pipeline"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// The client side of Statuspage's management API v1, written from its
// documentation (developer.statuspage.io), not from the server's types: a
// script written for Statuspage must work against Pharos unchanged.

type spComponent struct {
	ID                 string  `json:"id"`
	PageID             string  `json:"page_id"`
	GroupID            *string `json:"group_id"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Group              bool    `json:"group"`
	Name               string  `json:"name"`
	Description        *string `json:"description"`
	Position           int     `json:"position"`
	Status             string  `json:"status"`
	Showcase           bool    `json:"showcase"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
	StartDate          *string `json:"start_date"`
}

type spAffectedComponent struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type spIncidentUpdate struct {
	ID                   string                `json:"id"`
	IncidentID           string                `json:"incident_id"`
	AffectedComponents   []spAffectedComponent `json:"affected_components"`
	Body                 string                `json:"body"`
	CreatedAt            string                `json:"created_at"`
	DeliverNotifications bool                  `json:"deliver_notifications"`
	DisplayAt            string                `json:"display_at"`
	Status               string                `json:"status"`
	UpdatedAt            string                `json:"updated_at"`
}

type spIncident struct {
	ID                      string             `json:"id"`
	Components              []spComponent      `json:"components"`
	CreatedAt               string             `json:"created_at"`
	Impact                  string             `json:"impact"`
	ImpactOverride          *string            `json:"impact_override"`
	IncidentUpdates         []spIncidentUpdate `json:"incident_updates"`
	MonitoringAt            *string            `json:"monitoring_at"`
	Name                    string             `json:"name"`
	PageID                  string             `json:"page_id"`
	PostmortemBody          *string            `json:"postmortem_body"`
	ResolvedAt              *string            `json:"resolved_at"`
	ScheduledAutoCompleted  bool               `json:"scheduled_auto_completed"`
	ScheduledAutoInProgress bool               `json:"scheduled_auto_in_progress"`
	ScheduledFor            *string            `json:"scheduled_for"`
	ScheduledUntil          *string            `json:"scheduled_until"`
	Shortlink               string             `json:"shortlink"`
	Status                  string             `json:"status"`
	UpdatedAt               string             `json:"updated_at"`
	StartedAt               string             `json:"started_at"`
}

// spClient calls one page's management API with one key.
type spClient struct {
	t      *testing.T
	b      *webtest.Browser
	page   string
	header map[string]string
}

func oauth(tok string) map[string]string { return map[string]string{"Authorization": "OAuth " + tok} }

func (c spClient) do(method, path string, body any) webtest.Response {
	c.t.Helper()
	var payload any
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		payload = string(data)
	}
	return c.b.Do(method, "/api/v1/pages/"+c.page+path, payload, c.header)
}

// call sends a request, wants the code and decodes the answer into out.
func (c spClient) call(method, path string, body any, want int, out any) {
	c.t.Helper()
	res := c.do(method, path, body)
	if res.Code != want {
		c.t.Fatalf("%s %s: got %d %s, want %d", method, path, res.Code, res.Body, want)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("%s %s: Content-Type %q, want JSON", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(res.Body), out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, res.Body, err)
		}
	}
}

// addComponent gives the tenant's page a second component.
func addComponent(t *testing.T, st *store.Store, tn webtest.Tenant, name string) int64 {
	t.Helper()
	var id int64
	err := st.DB().QueryRowContext(context.Background(), webtest.Rebind(st, `INSERT INTO components (org_id, page_id, name, position)
		VALUES (?, ?, ?, 1) RETURNING id`), tn.Org.ID, tn.PageID, name).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func affectedOf(u spIncidentUpdate) map[string][2]string {
	out := map[string][2]string{}
	for _, a := range u.AffectedComponents {
		out[a.Code] = [2]string{a.OldStatus, a.NewStatus}
	}
	return out
}

func TestStatuspageIncidentLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		web2 := addComponent(t, st, a, "a Web")
		events := bus.NewMemory(bus.Options{})
		t.Cleanup(func() { events.Close() })
		br := webtest.NewBrowser(t, webtest.NewServer(t, st, func(o *web.Options) { o.Bus = events }).Handler())
		slug := "a-status"
		sub, err := events.Subscribe(t.Context(), pipeline.EventsChannel(slug))
		if err != nil {
			t.Fatal(err)
		}
		api, webID := webtest.ID(a.CompID), webtest.ID(web2)
		// By slug with the OAuth scheme, and by id with Bearer: both name the page.
		c := spClient{t: t, b: br, page: slug, header: oauth(a.EditTok)}
		byID := spClient{t: t, b: br, page: webtest.ID(a.PageID), header: webtest.Bearer(a.ViewTok)}

		var created spIncident
		c.call(http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{
			"name": "Images fail to load", "status": "investigating", "body": "We are looking into it.",
			"components":            map[string]string{api: "major_outage", webID: "degraded_performance"},
			"deliver_notifications": true, "metadata": map[string]any{"jira": "OPS-1"}, "wants_twitter_update": false,
		}}, http.StatusCreated, &created)
		if created.ID == "" || created.Status != "investigating" || created.Impact != "critical" || created.PageID != webtest.ID(a.PageID) {
			t.Errorf("created %+v; want investigating, impact critical, page %d", created, a.PageID)
		}
		if len(created.Components) != 2 || len(created.IncidentUpdates) != 1 ||
			!strings.HasSuffix(created.Shortlink, "/p/"+slug+"/incidents/"+created.ID) {
			t.Errorf("created components %d, updates %d, shortlink %q", len(created.Components), len(created.IncidentUpdates), created.Shortlink)
		}
		select {
		case ev := <-sub:
			var got map[string]any
			if err := json.Unmarshal(ev, &got); err != nil || got["type"] != "status" || got["page"] != slug {
				t.Errorf("live event %s, %v; want a status event for %s", ev, err, slug)
			}
		case <-time.After(5 * time.Second):
			t.Error("no live event after the incident was created")
		}

		var unresolved []spIncident
		byID.call(http.MethodGet, "/incidents/unresolved", nil, http.StatusOK, &unresolved)
		if len(unresolved) != 1 || unresolved[0].ID != created.ID {
			t.Fatalf("unresolved = %+v; want the created incident", unresolved)
		}

		var updated spIncident
		c.call(http.MethodPatch, "/incidents/"+created.ID, map[string]any{"incident": map[string]any{
			"status": "identified", "body": "A bad deploy of the image CDN.",
		}}, http.StatusOK, &updated)
		if updated.Status != "identified" || len(updated.IncidentUpdates) != 2 || updated.IncidentUpdates[0].Status != "identified" {
			t.Errorf("after PATCH: status %s with %d updates; want identified with 2, newest first", updated.Status, len(updated.IncidentUpdates))
		}
		c.call(http.MethodPatch, "/incidents/"+created.ID, map[string]any{"incident": map[string]any{
			"status": "resolved", "body": "Fixed.", "components": map[string]string{api: "operational", webID: "operational"},
		}}, http.StatusOK, &updated)
		if updated.Status != "resolved" || updated.ResolvedAt == nil || updated.Impact != "critical" {
			t.Errorf("after resolve: status %s resolved_at %v impact %s; want resolved, stamped, still critical", updated.Status, updated.ResolvedAt, updated.Impact)
		}
		if n := len(updated.IncidentUpdates); n != 3 {
			t.Fatalf("updates after resolve: %d, want 3", n)
		}
		if got := affectedOf(updated.IncidentUpdates[2]); got[api] != [2]string{"operational", "major_outage"} || got[webID] != [2]string{"operational", "degraded_performance"} {
			t.Errorf("first update's affected components %v; want them as they were when posted", got)
		}
		if got := affectedOf(updated.IncidentUpdates[0]); got[api] != [2]string{"major_outage", "operational"} {
			t.Errorf("resolve's affected components %v; want major_outage → operational", got)
		}
		byID.call(http.MethodGet, "/incidents/unresolved", nil, http.StatusOK, &unresolved)
		if len(unresolved) != 0 {
			t.Errorf("unresolved after resolve: %d, want 0", len(unresolved))
		}

		var comp spComponent
		c.call(http.MethodPatch, "/components/"+webID, map[string]any{"component": map[string]any{"status": "partial_outage", "name": "ignored"}},
			http.StatusOK, &comp)
		if comp.ID != webID || comp.Status != "partial_outage" || comp.Name != "a Web" {
			t.Errorf("PATCH component = %+v; want a Web in partial_outage", comp)
		}
		var comps []spComponent
		byID.call(http.MethodGet, "/components", nil, http.StatusOK, &comps)
		if len(comps) != 2 {
			t.Errorf("components: %d, want 2", len(comps))
		}
		byID.call(http.MethodGet, "/components/"+webID, nil, http.StatusOK, &comp)
		if comp.Status != "partial_outage" {
			t.Errorf("GET component status %s, want partial_outage", comp.Status)
		}

		var gone spIncident
		c.call(http.MethodDelete, "/incidents/"+created.ID, nil, http.StatusOK, &gone)
		if gone.ID != created.ID {
			t.Errorf("DELETE answered %+v; want the deleted incident", gone)
		}
		if res := byID.do(http.MethodGet, "/incidents/"+created.ID, nil); res.Code != http.StatusNotFound || !strings.Contains(res.Body, `"error"`) {
			t.Errorf("GET deleted incident: %d %s, want 404 with an error", res.Code, res.Body)
		}
		var all []spIncident
		byID.call(http.MethodGet, "/incidents", nil, http.StatusOK, &all)
		if len(all) != 0 {
			t.Errorf("incidents after delete: %d, want 0", len(all))
		}
	})
}

func TestStatuspageScheduledMaintenance(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		c := spClient{t: t, b: br, page: "a-status", header: webtest.Bearer(a.EditTok)}
		from := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
		until := from.Add(2 * time.Hour)
		var m spIncident
		c.call(http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{
			"name": "Database upgrade", "status": "scheduled", "body": "Writes pause for a minute.",
			"scheduled_for": from.Format(time.RFC3339), "scheduled_until": until.Format(time.RFC3339),
			"scheduled_auto_in_progress": true, "scheduled_auto_completed": true,
			"component_ids": []string{webtest.ID(a.CompID)},
		}}, http.StatusCreated, &m)
		if !strings.HasPrefix(m.ID, "m") || m.Status != "scheduled" || m.ScheduledFor == nil || len(m.Components) != 1 {
			t.Fatalf("created maintenance %+v; want id m…, scheduled, one component", m)
		}
		if got, err := time.Parse(time.RFC3339, *m.ScheduledFor); err != nil || !got.Equal(from) {
			t.Errorf("scheduled_for %s, want %s", *m.ScheduledFor, from)
		}
		var upcoming, active, scheduled []spIncident
		c.call(http.MethodGet, "/incidents/upcoming", nil, http.StatusOK, &upcoming)
		c.call(http.MethodGet, "/incidents/active_maintenance", nil, http.StatusOK, &active)
		c.call(http.MethodGet, "/incidents/scheduled", nil, http.StatusOK, &scheduled)
		if len(upcoming) != 1 || upcoming[0].ID != m.ID || len(active) != 0 || len(scheduled) != 1 {
			t.Errorf("upcoming %d, active %d, scheduled %d; want 1, 0, 1", len(upcoming), len(active), len(scheduled))
		}
		c.call(http.MethodPatch, "/incidents/"+m.ID, map[string]any{"incident": map[string]any{"status": "in_progress", "name": "Database upgrade (now)"}},
			http.StatusOK, &m)
		if m.Name != "Database upgrade (now)" {
			t.Errorf("PATCH maintenance name %q", m.Name)
		}
		if res := c.do(http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{"name": "x", "scheduled_for": "tomorrow"}}); res.Code != http.StatusUnprocessableEntity {
			t.Errorf("scheduled_for tomorrow: %d %s, want 422", res.Code, res.Body)
		}
		c.call(http.MethodDelete, "/incidents/"+m.ID, nil, http.StatusOK, nil)
		if res := c.do(http.MethodGet, "/incidents/"+m.ID, nil); res.Code != http.StatusNotFound {
			t.Errorf("GET deleted maintenance: %d, want 404", res.Code)
		}
	})
}

// TestStatuspageNamesUnknownComponent: a body naming a component that is
// not on the page is 404, and the answer says which, for POST and PATCH.
func TestStatuspageNamesUnknownComponent(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		c := spClient{t: t, b: br, page: "a-status", header: webtest.Bearer(a.EditTok)}
		var created spIncident
		c.call(http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{"name": "Slow", "status": "investigating"}},
			http.StatusCreated, &created)
		for _, tc := range []struct{ method, path string }{{http.MethodPost, "/incidents"}, {http.MethodPatch, "/incidents/" + created.ID}} {
			var got map[string]string
			c.call(tc.method, tc.path, map[string]any{"incident": map[string]any{"name": "Slow", "status": "identified",
				"components": map[string]string{"999999": "major_outage"}}}, http.StatusNotFound, &got)
			if want := "component 999999 is not on this page"; got["error"] != want {
				t.Errorf("%s %s: error %q, want %q", tc.method, tc.path, got["error"], want)
			}
		}
	})
}
