package api_test

import (
	"net/http"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestStatuspageBodyNeverRenderedRaw: text posted through the API is kept
// as given (the API answers it back unchanged) but the public incident page
// renders it sanitised: no script, no javascript: links, no event handlers.
func TestStatuspageBodyNeverRenderedRaw(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		c := spClient{t: t, b: br, page: "a-status", header: oauth(a.EditTok)}
		const body = "Hello <script>alert('body')</script> [details](javascript:alert('link')) " +
			"<a href=\"javascript:alert('html')\">x</a> <img src=x onerror=\"alert('img')\"> **bold**"
		const name = "<script>alert('name')</script>CDN"
		var in spIncident
		c.call(http.MethodPost, "/incidents", map[string]any{"incident": map[string]any{"name": name, "body": body}}, http.StatusCreated, &in)
		if in.Name != name || in.IncidentUpdates[0].Body != body {
			t.Errorf("API answered name %q body %q; want them as given", in.Name, in.IncidentUpdates[0].Body)
		}
		var again spIncident
		c.call(http.MethodPatch, "/incidents/"+in.ID, map[string]any{"incident": map[string]any{"body": body}}, http.StatusOK, &again)

		page := br.Get("/p/a-status/incidents/" + in.ID)
		if page.Code != http.StatusOK {
			t.Fatalf("public incident page: got %d, want 200", page.Code)
		}
		if !strings.Contains(page.Body, "<strong>bold</strong>") {
			t.Errorf("public page does not render the Markdown body:\n%s", page.Body)
		}
		for _, bad := range []string{"alert('body')", "alert('name')</script>", "javascript:", "onerror", "<script>alert"} {
			if strings.Contains(page.Body, bad) {
				t.Errorf("public incident page contains %q raw", bad)
			}
		}
	})
}
