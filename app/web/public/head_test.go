package public_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

var iconLink = regexp.MustCompile(`<link rel="icon" type="image/svg\+xml" href="(/static/[0-9a-f]+/img/favicon\.svg)">`)

// TestPublicHeadMetadata: every public page has a favicon and a meta
// description; the console's layout has the favicon too, and it is served.
func TestPublicHeadMetadata(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 1, incidents: 1, days: 1})
	br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
	var icon string
	for _, p := range []string{"/p/acme/", "/p/acme/history", "/p/acme/incidents/" + webtest.ID(f.incidents[0]), "/p/acme/subscribe"} {
		body := br.Get(p).Body
		m := iconLink.FindStringSubmatch(body)
		if m == nil {
			t.Errorf("%s: no favicon link", p)
			continue
		}
		icon = m[1]
		if !strings.Contains(body, `<meta name="description" content="Current status, incidents and scheduled maintenance of ACME status.">`) {
			t.Errorf("%s: no meta description", p)
		}
	}
	if res := br.Get("/setup"); !iconLink.MatchString(res.Body) {
		t.Errorf("console layout (/setup, %d): no favicon link", res.Code)
	}
	if res := br.Get(icon); res.Code != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("GET %s: %d %s, want the SVG", icon, res.Code, res.Header.Get("Content-Type"))
	}
}
