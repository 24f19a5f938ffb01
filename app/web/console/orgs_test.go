package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestSwitchOrg: a user in two organisations switches between them from
// the console; the session then reads and writes only the organisation it
// switched to, the old session's CSRF token stops working, and switching to
// an organisation the user does not belong to is 404.
func TestSwitchOrg(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		c := webtest.SeedTenant(t, st, "c")
		if err := st.AddMember(ctx, b.Org.ID, userID(t, st, a.Owner), store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		h := webtest.NewServer(t, st, nil).Handler()
		br := webtest.NewBrowser(t, h)
		csrfA := br.Login(a.Owner, webtest.TestPassword)

		orgs := br.Get("/admin/orgs")
		if orgs.Code != http.StatusOK || strings.Count(orgs.Body, `data-testid="org"`) != 2 ||
			strings.Count(orgs.Body, `data-testid="org-switch"`) != 1 || strings.Contains(orgs.Body, c.Org.Name+" <") {
			t.Fatalf("organisations page: got %d, want a and b with one switch button\n%s", orgs.Code, orgs.Body)
		}
		if home := br.Get("/admin/"); !strings.Contains(home.Body, `href="/admin/orgs"`) {
			t.Error("the console header has no link to switch organisation")
		}
		sw := func(org int64, csrf string) webtest.Response {
			return br.Post("/session/org", url.Values{"csrf_token": {csrf}, "org_id": {webtest.ID(org)}})
		}
		if res := sw(b.Org.ID, ""); res.Code != http.StatusForbidden {
			t.Errorf("switch without CSRF token: got %d, want 403", res.Code)
		}
		if res := br.Post("/session/org", url.Values{"csrf_token": {csrfA}, "org_id": {"x"}}); res.Code != http.StatusNotFound {
			t.Errorf("switch to a malformed organisation id: got %d, want 404", res.Code)
		}
		if res := sw(c.Org.ID, csrfA); res.Code != http.StatusNotFound {
			t.Errorf("switch to an organisation the user is not in: got %d, want 404", res.Code)
		}
		if res := sw(b.Org.ID, csrfA); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/admin/" {
			t.Fatalf("switch to b: got %d %s, want 303 to /admin/\n%s", res.Code, res.Header.Get("Location"), res.Body)
		}
		home := br.Get("/admin/")
		if got := between(t, home.Body, `data-testid="org-name">`); got != b.Org.Name {
			t.Errorf("after switching, the header names %q, want %q", got, b.Org.Name)
		}
		if got := role(t, br); got != "viewer" {
			t.Errorf("after switching, role %q, want viewer (the role in b)", got)
		}
		if res := br.Get("/admin/pages/" + webtest.ID(a.PageID)); res.Code != http.StatusNotFound {
			t.Errorf("a's page from b's session: got %d, want 404", res.Code)
		}
		if res := br.Get("/admin/pages/" + webtest.ID(b.PageID)); res.Code != http.StatusOK {
			t.Errorf("b's page from b's session: got %d, want 200", res.Code)
		}
		if res := sw(a.Org.ID, csrfA); res.Code != http.StatusForbidden {
			t.Errorf("the old session's CSRF token after switching: got %d, want 403", res.Code)
		}
		// Viewer in b: no write, whatever the role in a.
		csrfB := webtest.CSRFOf(t, home.Body)
		if res := br.Post("/admin/checks/"+webtest.ID(b.CheckID)+"/enabled", url.Values{"csrf_token": {csrfB}, "enabled": {"false"}}); res.Code != http.StatusForbidden {
			t.Errorf("viewer in b pausing b's check: got %d, want 403", res.Code)
		}
		log, err := st.AuditLog(ctx, b.Org.ID, 5)
		if err != nil || len(log) == 0 || log[0].Action != "login" || log[0].UserID != userID(t, st, a.Owner) {
			t.Errorf("b's audit log after the switch: %+v, %v; want a login by the switching user first", log, err)
		}
		if res := sw(a.Org.ID, csrfB); res.Code != http.StatusSeeOther {
			t.Fatalf("switch back to a: got %d, want 303", res.Code)
		}
		if got := role(t, br); got != "owner" {
			t.Errorf("back in a, role %q, want owner", got)
		}
	})
}
