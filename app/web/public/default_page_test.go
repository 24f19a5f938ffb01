package public_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestDefaultPageAtRoot (PHAROS_DEFAULT_PAGE): the main host serves the
// default page's whole surface at /, as a custom domain does, while the
// console's paths keep working and a custom domain keeps its own page.
func TestDefaultPageAtRoot(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 1})
	seedPublicPage(t, st, fixtureOptions{slug: "other", title: "Other status", domain: "status.other.example", components: 1, days: 1})
	h := webtest.NewServer(t, st, func(o *web.Options) {
		o.BaseURL, o.DefaultPage = "https://status.example", "acme"
	}).Handler()

	page := hostGet(t, h, "status.example", "/")
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "ACME status") || !strings.Contains(page.Body.String(), `href="/history"`) {
		t.Fatalf("/: got %d, want the default page with root links: %.300s", page.Code, page.Body.String())
	}
	var doc struct {
		Page struct {
			Name string `json:"name"`
		} `json:"page"`
	}
	sum := hostGet(t, h, "status.example", "/api/v2/summary.json")
	if err := json.Unmarshal(sum.Body.Bytes(), &doc); err != nil || doc.Page.Name != "ACME status" {
		t.Errorf("/api/v2/summary.json: %d %v %q", sum.Code, err, doc.Page.Name)
	}
	feed := atomOf(t, "/feed.atom", hostGet(t, h, "status.example", "/feed.atom").Body.String())
	if got := feed.link("self"); got != "https://status.example/feed.atom" {
		t.Errorf("self link at the root %q, want https://status.example/feed.atom", got)
	}
	for _, p := range []string{"/setup", "/login", "/admin/"} {
		res := hostGet(t, h, "status.example", p)
		if strings.Contains(res.Body.String(), "ACME status") || res.Code == http.StatusNotFound {
			t.Errorf("%s: got %d with the status page, want the console's answer", p, res.Code)
		}
	}
	if other := hostGet(t, h, "status.other.example", "/"); !strings.Contains(other.Body.String(), "Other status") {
		t.Errorf("custom domain: got %d, want its own page", other.Code)
	}
	if res := hostGet(t, h, "status.example", "/p/other/"); !strings.Contains(res.Body.String(), "Other status") {
		t.Errorf("/p/other/ on the main host: got %d, want that page", res.Code)
	}
}
