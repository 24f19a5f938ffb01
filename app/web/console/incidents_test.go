package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pharos/app/bus"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// composerServer serves st with an in-process bus, so the console's writes
// reach the public page's cache as live events.
func composerServer(t *testing.T, st *store.Store) http.Handler {
	t.Helper()
	b := bus.NewMemory(bus.Options{})
	t.Cleanup(func() { b.Close() })
	return webtest.NewServer(t, st, func(o *web.Options) { o.Bus = b }).Handler()
}

// addComponent adds a component to a tenant's page.
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

// statuspageIncident is the part of a Statuspage v2 incident this test
// reads, written from Statuspage's documentation.
type statuspageIncident struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	Impact          string `json:"impact"`
	IncidentUpdates []struct {
		Status             string `json:"status"`
		Body               string `json:"body"`
		AffectedComponents []struct {
			Code      string `json:"code"`
			OldStatus string `json:"old_status"`
			NewStatus string `json:"new_status"`
		} `json:"affected_components"`
	} `json:"incident_updates"`
}

// awaitIncidents polls the public incidents until ok accepts them: a
// console write reaches the page cache as a live event, a moment later.
func awaitIncidents(t *testing.T, b *webtest.Browser, slug string, ok func([]statuspageIncident) bool) []statuspageIncident {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := publicIncidents(t, b, slug)
		if ok(got) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func publicIncidents(t *testing.T, b *webtest.Browser, slug string) []statuspageIncident {
	t.Helper()
	res := b.Get("/p/" + slug + "/api/v2/incidents.json")
	if res.Code != http.StatusOK {
		t.Fatalf("incidents.json: got %d", res.Code)
	}
	var doc struct {
		Incidents []statuspageIncident `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Incidents
}

// TestComposerLifecycle writes an incident through the console's forms as
// an editor would: preview, create with two components, update, resolve,
// edit a text, postmortem, delete; the public page and its JSON follow
// each step, every update keeps what it did to the components, and another
// organisation's editor finds none of it.
func TestComposerLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		other := webtest.SeedTenant(t, st, "b")
		cdn := addComponent(t, st, a, "a CDN")
		h := composerServer(t, st)
		ed := webtest.NewBrowser(t, h)
		csrf := ed.Login(a.Editor, webtest.TestPassword)
		slug := "a-status"
		api, cdnField := "component_"+webtest.ID(a.CompID), "component_"+webtest.ID(cdn)

		if res := ed.Get("/admin/incidents/new?page=" + webtest.ID(a.PageID)); res.Code != http.StatusOK || !strings.Contains(res.Body, `data-testid="incident-form"`) {
			t.Fatalf("composer: got %d, want the form", res.Code)
		}
		form := url.Values{"csrf_token": {csrf}, "page_id": {webtest.ID(a.PageID)}, "name": {"Images <b>fail</b>"},
			"status": {"investigating"}, "impact": {""}, api: {"major_outage"}, cdnField: {"degraded_performance"},
			"body": {"We are **looking**. <script>alert(1)</script> [x](javascript:alert(2))"}, "deliver_notifications": {"1"}}
		preview := url.Values{"action": {"preview"}}
		for k, v := range form {
			preview[k] = v
		}
		res := ed.Post("/admin/incidents", preview)
		_, shown, _ := strings.Cut(res.Body, `data-testid="preview-html"`)
		shown, _, _ = strings.Cut(shown, "</div>")
		if res.Code != http.StatusOK || !strings.Contains(shown, "<strong>looking</strong>") || strings.Contains(res.Body, "<script>alert") ||
			strings.Contains(shown, "javascript:") {
			t.Fatalf("preview: got %d, want the sanitised body rendered:\n%s", res.Code, res.Body)
		}
		if got := publicIncidents(t, ed, slug); len(got) != 0 {
			t.Fatalf("a preview created %d incidents", len(got))
		}
		res = ed.Post("/admin/incidents", form)
		if res.Code != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/admin/incidents/") {
			t.Fatalf("create: got %d %q, want 303 to the incident\n%s", res.Code, res.Header.Get("Location"), res.Body)
		}
		incidentPath := res.Header.Get("Location")
		page := ed.Get(incidentPath)
		if !strings.Contains(page.Body, "Images &lt;b&gt;fail&lt;/b&gt;") || !strings.Contains(page.Body, `data-testid="incident-impact">critical<`) {
			t.Errorf("console incident: want the escaped name and impact critical:\n%s", page.Body)
		}
		got := awaitIncidents(t, ed, slug, func(l []statuspageIncident) bool { return len(l) == 1 })
		if len(got) != 1 || got[0].Impact != "critical" || got[0].Status != "investigating" {
			t.Fatalf("public incidents after create: %+v, want one critical investigating", got)
		}
		if pub := ed.Get("/p/" + slug + "/"); !strings.Contains(pub.Body, "Images &lt;b&gt;fail&lt;/b&gt;") || strings.Contains(pub.Body, "<script>alert") {
			t.Errorf("public page: want the escaped incident name and no script")
		}

		post := func(path string, v url.Values) {
			t.Helper()
			v.Set("csrf_token", csrf)
			if res := ed.Post(path, v); res.Code != http.StatusSeeOther {
				t.Fatalf("POST %s: got %d, want 303\n%s", path, res.Code, res.Body)
			}
		}
		post(incidentPath+"/updates", url.Values{"status": {"monitoring"}, "body": {"A fix is out."}, api: {"operational"}, cdnField: {"operational"}})
		post(incidentPath+"/updates", url.Values{"status": {"resolved"}, "body": {"Resolved."}})

		got = awaitIncidents(t, ed, slug, func(l []statuspageIncident) bool { return len(l) == 1 && l[0].Status == "resolved" })
		if len(got) != 1 || got[0].Status != "resolved" || len(got[0].IncidentUpdates) != 3 {
			t.Fatalf("after resolve: %+v, want resolved with 3 updates", got)
		}
		first := got[0].IncidentUpdates[2] // newest first
		if len(first.AffectedComponents) != 2 || first.AffectedComponents[0].OldStatus != "operational" ||
			first.AffectedComponents[0].NewStatus != "major_outage" {
			t.Errorf("first update's components after resolve: %+v, want operational→major_outage kept", first.AffectedComponents)
		}
		monitoring := got[0].IncidentUpdates[1]
		if len(monitoring.AffectedComponents) != 2 || monitoring.AffectedComponents[0].OldStatus != "major_outage" ||
			monitoring.AffectedComponents[0].NewStatus != "operational" {
			t.Errorf("monitoring update's components: %+v, want major_outage→operational", monitoring.AffectedComponents)
		}

		// Another organisation's editor sees and changes nothing.
		eve := webtest.NewBrowser(t, h)
		eveCSRF := eve.Login(other.Editor, webtest.TestPassword)
		if res := eve.Get(incidentPath); res.Code != http.StatusNotFound {
			t.Errorf("B reading A's incident: got %d, want 404", res.Code)
		}
		if res := eve.Post(incidentPath+"/updates", url.Values{"csrf_token": {eveCSRF}, "status": {"investigating"}, "body": {"pwned"}}); res.Code != http.StatusNotFound {
			t.Errorf("B updating A's incident: got %d, want 404", res.Code)
		}

		// Edit the first update's text; it shows as edited.
		updateID := updateIDs(t, st, a, got[0].ID)[0]
		post(incidentPath+"/updates/"+webtest.ID(updateID), url.Values{"body": {"We are looking (corrected)."}})
		if page := ed.Get(incidentPath); !strings.Contains(page.Body, "We are looking (corrected).") || !strings.Contains(page.Body, `data-testid="edited"`) {
			t.Errorf("edited update: want the new text marked edited")
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			pub := ed.Get("/p/" + slug + "/incidents/" + got[0].ID)
			if strings.Contains(pub.Body, `data-testid="edited"`) && strings.Contains(pub.Body, "We are looking (corrected).") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the public incident page never showed the corrected text marked edited")
			}
			time.Sleep(10 * time.Millisecond)
		}
		post(incidentPath+"/postmortem", url.Values{"body": {"## What happened\n\nA certificate expired."}})
		if got := awaitIncidents(t, ed, slug, func(l []statuspageIncident) bool { return l[0].Status == "postmortem" }); got[0].Status != "postmortem" {
			t.Errorf("after postmortem: status %q, want postmortem", got[0].Status)
		}

		// Editors may not delete; the owner may, and it is gone everywhere.
		if res := ed.Post(incidentPath+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"1"}}); res.Code != http.StatusForbidden {
			t.Errorf("editor deleting: got %d, want 403", res.Code)
		}
		owner := webtest.NewBrowser(t, h)
		ownerCSRF := owner.Login(a.Owner, webtest.TestPassword)
		if res := owner.Post(incidentPath+"/delete", url.Values{"csrf_token": {ownerCSRF}}); res.Code != http.StatusUnprocessableEntity {
			t.Errorf("delete without confirmation: got %d, want 422", res.Code)
		}
		if res := owner.Post(incidentPath+"/delete", url.Values{"csrf_token": {ownerCSRF}, "confirm": {"1"}}); res.Code != http.StatusSeeOther {
			t.Fatalf("owner deleting: got %d, want 303", res.Code)
		}
		if got := awaitIncidents(t, ed, slug, func(l []statuspageIncident) bool { return len(l) == 0 }); len(got) != 0 {
			t.Errorf("after delete the public JSON lists %d incidents, want 0", len(got))
		}
		if res := ed.Get("/p/" + slug + "/incidents/" + got[0].ID); res.Code != http.StatusNotFound {
			t.Errorf("deleted incident's public page: got %d, want 404", res.Code)
		}
	})
}

// updateIDs lists an incident's update ids, oldest first.
func updateIDs(t *testing.T, st *store.Store, tn webtest.Tenant, incidentID string) []int64 {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(), webtest.Rebind(st,
		`SELECT id FROM incident_updates WHERE org_id = ? AND incident_id = ? ORDER BY id`), tn.Org.ID, incidentID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestComposerRefusesBadInputKeepingTheForm: a missing title, an unknown
// status and a start time in the future are refused with 422 and the form
// keeps what was typed; nothing is written.
func TestComposerRefusesBadInputKeepingTheForm(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	ed := webtest.NewBrowser(t, composerServer(t, st))
	csrf := ed.Login(a.Editor, webtest.TestPassword)
	base := url.Values{"csrf_token": {csrf}, "page_id": {webtest.ID(a.PageID)}, "status": {"investigating"}, "body": {"kept text"}}
	cases := []struct {
		name, field, value, want string
	}{
		{"no title", "name", "", "Give the incident a title."},
		{"bad status", "status", "exploded", "unknown status"},
		{"future start", "started_at", time.Now().Add(48 * time.Hour).Format("2006-01-02T15:04"), "cannot start in the future"},
		{"bad start", "started_at", "yesterday", "is not a date and time"},
	}
	for _, tc := range cases {
		v := url.Values{"name": {"Title"}}
		for k, vs := range base {
			v[k] = vs
		}
		v.Set(tc.field, tc.value)
		res := ed.Post("/admin/incidents", v)
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) || !strings.Contains(res.Body, "kept text") {
			t.Errorf("%s: got %d, want 422 saying %q and keeping the body", tc.name, res.Code, tc.want)
		}
	}
	if got := publicIncidents(t, ed, "a-status"); len(got) != 0 {
		t.Errorf("refused forms wrote %d incidents", len(got))
	}
}

// TestComponentStatusByHand: an editor sets a component's status on its
// own and as part of an open incident; the public JSON follows, the
// incident lists the component, and a viewer's form is refused.
func TestComponentStatusByHand(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		h := composerServer(t, st)
		ed := webtest.NewBrowser(t, h)
		csrf := ed.Login(a.Editor, webtest.TestPassword)
		statusPath := "/admin/components/" + webtest.ID(a.CompID) + "/status"

		if res := ed.Post(statusPath, url.Values{"csrf_token": {csrf}, "status": {"partial_outage"}}); res.Code != http.StatusSeeOther {
			t.Fatalf("set status: got %d\n%s", res.Code, res.Body)
		}
		if res := ed.Post(statusPath, url.Values{"csrf_token": {csrf}, "status": {"on_fire"}}); res.Code != http.StatusUnprocessableEntity {
			t.Errorf("unknown status: got %d, want 422", res.Code)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(ed.Get("/p/a-status/api/v2/components.json").Body, `"status":"partial_outage"`) {
			if time.Now().After(deadline) {
				t.Fatal("components.json never showed partial_outage")
			}
			time.Sleep(10 * time.Millisecond)
		}
		res := ed.Post("/admin/incidents", url.Values{"csrf_token": {csrf}, "page_id": {webtest.ID(a.PageID)},
			"name": {"Slow API"}, "status": {"investigating"}, "body": {"Looking."}})
		if res.Code != http.StatusSeeOther {
			t.Fatalf("create: got %d", res.Code)
		}
		incidentID := strings.TrimPrefix(res.Header.Get("Location"), "/admin/incidents/")
		if page := ed.Get("/admin/components/" + webtest.ID(a.CompID)); !strings.Contains(page.Body, `<option value="`+incidentID+`">Slow API</option>`) {
			t.Errorf("the component page does not offer the open incident")
		}
		if res := ed.Post(statusPath, url.Values{"csrf_token": {csrf}, "status": {"degraded_performance"}, "incident_id": {incidentID}}); res.Code != http.StatusSeeOther {
			t.Fatalf("set status with incident: got %d\n%s", res.Code, res.Body)
		}
		got := awaitIncidents(t, ed, "a-status", func(l []statuspageIncident) bool { return len(l) == 1 })
		var doc struct {
			Incidents []struct {
				Components []struct {
					Status string `json:"status"`
				} `json:"components"`
			} `json:"incidents"`
		}
		if err := json.Unmarshal([]byte(ed.Get("/p/a-status/api/v2/incidents.json").Body), &doc); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(doc.Incidents) != 1 || len(doc.Incidents[0].Components) != 1 ||
			doc.Incidents[0].Components[0].Status != "degraded_performance" {
			t.Errorf("incident components after linking: %+v, want the component degraded", doc.Incidents)
		}
		viewer := webtest.NewBrowser(t, h)
		vcsrf := viewer.Login(a.Viewer, webtest.TestPassword)
		if res := viewer.Post(statusPath, url.Values{"csrf_token": {vcsrf}, "status": {"operational"}}); res.Code != http.StatusForbidden {
			t.Errorf("viewer setting a status: got %d, want 403", res.Code)
		}
	})
}
