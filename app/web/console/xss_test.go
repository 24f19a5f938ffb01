package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestNoMarkupEscapesFromAnyNewField writes script, event-handler and
// javascript: payloads into every field the incident and maintenance forms
// take — titles, bodies, update texts, postmortem, template names,
// maintenance names and messages — and reads every console and public
// page that shows them: none carries the markup live.
func TestNoMarkupEscapesFromAnyNewField(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	ed := webtest.NewBrowser(t, composerServer(t, st))
	csrf := ed.Login(a.Editor, webtest.TestPassword)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>[y](javascript:alert(4))"'><svg onload=alert(5)>`
	post := func(path string, v url.Values) string {
		t.Helper()
		v.Set("csrf_token", csrf)
		res := ed.Post(path, v)
		if res.Code != http.StatusSeeOther {
			t.Fatalf("POST %s: got %d\n%s", path, res.Code, res.Body)
		}
		return res.Header.Get("Location")
	}
	comp := "component_" + webtest.ID(a.CompID)
	incident := post("/admin/incidents", url.Values{"page_id": {webtest.ID(a.PageID)}, "name": {"I " + evil},
		"status": {"investigating"}, comp: {"major_outage"}, "body": {"B " + evil}})
	post(incident+"/updates", url.Values{"status": {"resolved"}, "body": {"U " + evil}})
	post(incident+"/postmortem", url.Values{"body": {"P " + evil}})
	post("/admin/pages/"+webtest.ID(a.PageID)+"/templates", url.Values{"template_name": {"T " + evil}, "name": {"TT " + evil},
		"status": {"identified"}, "body": {"TB " + evil}})
	start := time.Now().Add(time.Hour).UTC()
	post("/admin/maintenance", url.Values{"page_id": {webtest.ID(a.PageID)}, "name": {"M " + evil}, "kind": {"once"},
		"start": {start.Format("2006-01-02T15:04")}, "end": {start.Add(time.Hour).Format("2006-01-02T15:04")},
		"timezone": {"UTC"}, "body": {"MB " + evil}, comp: {"1"}, "action": {"save"}})
	id := strings.TrimPrefix(incident, "/admin/incidents/")

	pages := []string{incident, "/admin/incidents", "/admin/maintenance", "/admin/pages/" + webtest.ID(a.PageID) + "/templates",
		"/admin/components/" + webtest.ID(a.CompID), "/admin/audit",
		"/p/a-status/", "/p/a-status/incidents/" + id, "/p/a-status/history", "/p/a-status/feed.atom", "/p/a-status/feed.rss"}
	for _, p := range pages {
		body := ed.Get(p).Body
		if !strings.Contains(body, "alert(1)") && !strings.Contains(body, "alert(") {
			// Each page must show the text somewhere, or the test proves nothing.
			if !strings.HasPrefix(p, "/p/a-status/feed") && p != "/admin/components/"+webtest.ID(a.CompID) {
				t.Errorf("%s shows none of the payload: the test reads the wrong page", p)
			}
		}
		for _, live := range []string{"<script>alert", "<img src=x onerror", "<svg onload", `href="javascript:`, "onerror=alert(2)>"} {
			if strings.Contains(body, live) {
				t.Errorf("%s carries live markup %q", p, live)
			}
		}
	}
}
