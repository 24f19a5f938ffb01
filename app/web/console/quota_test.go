package console_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web"
	"pharos/app/web/webtest"
)

// TestFormsRefuseBeyondQuota: with the operator's limits reached (the
// seeded page, component and check), the new page, component and check
// forms answer 422 naming the limit, its value and its variable, and a
// check's interval below the minimum is refused beside its field, on
// create and on edit; nothing is written. The check form's hint and its
// range message state the minimum.
func TestFormsRefuseBeyondQuota(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		lim := apply.Limits{Checks: 1, Components: 1, Pages: 1, MinInterval: time.Minute}
		srv := webtest.NewServer(t, st, func(o *web.Options) { o.Limits = lim })
		ed := webtest.NewBrowser(t, srv.Handler())
		csrf := ed.Login(a.Editor, webtest.TestPassword)
		page, comp, check := webtest.ID(a.PageID), webtest.ID(a.CompID), webtest.ID(a.CheckID)
		before := catalogRows(t, st, a.Org.ID)

		refused := func(what string, res webtest.Response, testid, want string) {
			t.Helper()
			body := html.UnescapeString(res.Body)
			if res.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="`+testid+`">`+want) {
				t.Errorf("%s: got %d, want 422 with %s %q\n%s", what, res.Code, testid, want, res.Body)
			}
		}
		refused("new page", ed.Post("/admin/pages", form(csrf, "title", "Blog", "slug", "blog")),
			"form-error", "2 pages would exceed this organisation's limit of 1 (PHAROS_MAX_PAGES)")
		refused("new component", ed.Post("/admin/pages/"+page+"/components", form(csrf, "name", "Web")),
			"form-error", "2 components would exceed this organisation's limit of 1 (PHAROS_MAX_COMPONENTS)")
		newCheck := form(csrf, "component", comp, "name", "second", "url", "https://shop.acme.io/health", "interval", "2m")
		refused("new check", ed.Post("/admin/pages/"+page+"/checks", newCheck),
			"form-error", "2 checks would exceed this organisation's limit of 1 (PHAROS_MAX_CHECKS)")
		const tooOften = "30s is more often than this service allows: the shortest interval is 1m (PHAROS_MIN_INTERVAL)"
		newCheck.Set("interval", "30s")
		refused("new check every 30s", ed.Post("/admin/pages/"+page+"/checks", newCheck), "error-interval", tooOften)
		if res := ed.Get("/admin/pages/" + page + "/checks/new"); !strings.Contains(html.UnescapeString(res.Body), "1m to 24h; default 60s.") {
			t.Errorf("new check form: the interval's hint does not say 1m to 24h\n%s", res.Body)
		}
		newCheck.Set("interval", "5s")
		refused("new check every 5s", ed.Post("/admin/pages/"+page+"/checks", newCheck), "error-interval", "5s is out of range (1m to 24h)")
		edit := form(csrf, "component", comp, "name", "edited", "url", "https://shop.acme.io/health", "interval", "30s")
		refused("check edited to 30s", ed.Post("/admin/checks/"+check, edit), "error-interval", tooOften)
		if after := catalogRows(t, st, a.Org.ID); after != before {
			t.Errorf("refused forms wrote: before %v, after %v", before, after)
		}

		edit.Set("interval", "5m")
		if res := ed.Post("/admin/checks/"+check, edit); res.Code != http.StatusSeeOther {
			t.Errorf("check edited to 5m: got %d, want 303\n%s", res.Code, res.Body)
		}
	})
}

// catalogRows counts the organisation's pages, components, checks and
// audit rows.
func catalogRows(t *testing.T, st *store.Store, orgID int64) [4]int {
	t.Helper()
	var out [4]int
	for i, table := range []string{"pages", "components", "checks", "audit_log"} {
		if err := st.DB().QueryRow(webtest.Rebind(st, "SELECT COUNT(*) FROM "+table+" WHERE org_id = ?"), orgID).Scan(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
