package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/app/apply"
	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// form is a console form with its CSRF token.
func form(csrf string, kv ...string) url.Values {
	v := url.Values{"csrf_token": {csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// createdID is the id at the end of a 303's Location.
func createdID(t *testing.T, res webtest.Response, prefix string) string {
	t.Helper()
	loc := res.Header.Get("Location")
	if res.Code != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("got %d to %q, want 303 to %s…\n%s", res.Code, loc, prefix, res.Body)
	}
	return strings.TrimPrefix(loc, prefix)
}

// TestCatalogForms: an editor creates a page, a group, a component and a
// check through the console's forms and the check is stored as apply
// stores the same file's; mistakes come back with 422 beside their field
// and write nothing; edits and deletes are audited; a managed check
// warns that the next apply overwrites it.
func TestCatalogForms(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		ed := webtest.NewBrowser(t, composerServer(t, st))
		csrf := ed.Login(a.Editor, webtest.TestPassword)

		pageID := createdID(t, ed.Post("/admin/pages", form(csrf, "title", "Shop", "slug", "shop", "timezone", "Europe/Berlin",
			"auto_incidents", "draft", "public_detail", "plain")), "/admin/pages/")
		if res := ed.Post("/admin/pages/"+pageID+"/groups", form(csrf, "name", "Backend")); res.Code != http.StatusSeeOther {
			t.Fatalf("add group: got %d\n%s", res.Code, res.Body)
		}
		if res := ed.Post("/admin/pages/"+pageID+"/groups", form(csrf, "name", "Backend", "position", "first")); res.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(res.Body, `data-testid="error-group-position">want a whole number, got &#34;first&#34;`) {
			t.Errorf("bad group position: got %d, want 422 beside the position", res.Code)
		}
		groups, err := st.ComponentGroups(ctx, a.Org.ID, mustInt(t, pageID))
		if err != nil || len(groups) != 1 {
			t.Fatalf("groups: %v, %v", groups, err)
		}
		compID := createdID(t, ed.Post("/admin/pages/"+pageID+"/components", form(csrf, "name", "Checkout",
			"description", "Paying for things", "group", webtest.ID(groups[0].ID))), "/admin/components/")
		check := form(csrf, "component", compID, "name", "checkout", "url", "https://shop.acme.io/health", "interval", "30s",
			"regions", "local", "confirm", "3", "nodes", "all", "expect.status", "200, 204", "expect.body_contains", "Buy\nCart",
			"expect.json", "$.ok = true", "tls.warn_days", "30", "tls.min_version", "1.2")
		checkID := createdID(t, ed.Post("/admin/pages/"+pageID+"/checks", check), "/admin/checks/")

		// The same check written by apply, in another organisation.
		file := `page: {slug: shop-file, title: Shop, timezone: Europe/Berlin, auto_incidents: draft}
components:
  - name: Checkout
    description: Paying for things
    group: Backend
    checks:
      - name: checkout
        url: https://shop.acme.io/health
        interval: 30s
        regions: [local]
        confirm: 3
        nodes: all
        expect: {status: [200, 204], body_contains: [Buy, Cart], json: {"$.ok": true}}
        tls: {warn_days: 30, min_version: "1.2"}
`
		if _, err := apply.Apply(ctx, st, b.Org.ID, "shop.yaml", []byte(file), false, "test"); err != nil {
			t.Fatal(err)
		}
		fromForm, err := st.Check(ctx, a.Org.ID, mustInt(t, checkID))
		if err != nil {
			t.Fatal(err)
		}
		fromFile := namedCheck(t, st, b.Org.ID, "checkout")
		if diff := cmp.Diff(checkValues(t, fromFile), checkValues(t, fromForm)); diff != "" {
			t.Errorf("the console's check differs from apply's (-apply +console):\n%s", diff)
		}
		if fromForm.Managed || !fromFile.Managed {
			t.Errorf("managed: console %v, apply %v; want false, true", fromForm.Managed, fromFile.Managed)
		}

		// Mistakes: 422, the message beside its field, the values kept,
		// nothing written.
		for _, tc := range []struct{ key, value, message string }{
			{"interval", "1s", "1s is out of range (10s to 24h)"},
			{"url", "ftp://shop.acme.io/", "the scheme must be http or https"},
			{"regions", "fra Frankfurt", "is not a region name"},
			{"expect.status", "99", "is not an HTTP status code"},
		} {
			bad := form(csrf, "component", compID, "name", "bad", "url", "https://shop.acme.io/", tc.key, tc.value)
			res := ed.Post("/admin/pages/"+pageID+"/checks", bad)
			if res.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s %q: got %d, want 422", tc.key, tc.value, res.Code)
				continue
			}
			errTag := `data-testid="error-` + tc.key + `">`
			i := strings.Index(res.Body, errTag)
			if i < 0 || !strings.Contains(res.Body[i:min(len(res.Body), i+300)], htmlText(tc.message)) {
				t.Errorf("%s %q: no message %q beside the field", tc.key, tc.value, tc.message)
			}
			if !strings.Contains(res.Body, `value="`+htmlText(tc.value)+`"`) && tc.key != "expect.status" {
				t.Errorf("%s %q: the form lost the value", tc.key, tc.value)
			}
		}
		if res := ed.Post("/admin/pages", form(csrf, "title", "X", "slug", "Not A Slug")); res.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(res.Body, `data-testid="error-slug"`) {
			t.Errorf("bad slug: got %d, want 422 beside the slug", res.Code)
		}
		if res := ed.Post("/admin/pages", form(csrf, "title", "X", "slug", "b-status")); res.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(res.Body, "already taken") {
			t.Errorf("another organisation's slug: got %d, want 422", res.Code)
		}
		if checks, _ := st.Checks(ctx, a.Org.ID, mustInt(t, pageID)); len(checks) != 1 {
			t.Errorf("refused forms: %d checks on the page, want 1", len(checks))
		}

		// Edit: the form holds the stored values; a change is audited.
		edit := ed.Get("/admin/checks/" + checkID + "/edit")
		if edit.Code != http.StatusOK || !strings.Contains(edit.Body, `value="https://shop.acme.io/health"`) ||
			strings.Contains(edit.Body, `data-testid="managed-banner"`) {
			t.Fatalf("edit form: got %d, want the stored URL and no managed banner", edit.Code)
		}
		check.Set("interval", "45s")
		if res := ed.Post("/admin/checks/"+checkID, check); res.Code != http.StatusSeeOther {
			t.Fatalf("update: got %d\n%s", res.Code, res.Body)
		}
		if got, _ := st.Check(ctx, a.Org.ID, mustInt(t, checkID)); got.Interval.String() != "45s" {
			t.Errorf("interval after edit: got %s, want 45s", got.Interval)
		}
		wantAudit(t, st, a.Org.ID, "check.update", `~ check \"checkout\" (interval 30s → 45s)`)
		wantAudit(t, st, a.Org.ID, "page.create", `+ page \"shop\"`)

		// A check a file wrote warns before it is changed.
		if _, err := st.DB().ExecContext(ctx, webtest.Rebind(st, `UPDATE checks SET managed = ? WHERE id = ?`), true, a.CheckID); err != nil {
			t.Fatal(err)
		}
		if res := ed.Get("/admin/checks/" + webtest.ID(a.CheckID) + "/edit"); !strings.Contains(res.Body, `data-testid="managed-banner"`) {
			t.Error("a managed check's form has no banner saying the next apply overwrites it")
		}

		if res := ed.Post("/admin/checks/"+checkID+"/delete", form(csrf)); res.Code != http.StatusSeeOther {
			t.Fatalf("delete check: got %d", res.Code)
		}
		if _, err := st.Check(ctx, a.Org.ID, mustInt(t, checkID)); err == nil {
			t.Error("the deleted check is still stored")
		}
		wantAudit(t, st, a.Org.ID, "check.delete", `- check \"checkout\"`)
		if res := ed.Post("/admin/pages/"+pageID+"/delete", form(csrf)); res.Code != http.StatusSeeOther {
			t.Fatalf("delete page: got %d", res.Code)
		}
		if _, err := st.Page(ctx, a.Org.ID, mustInt(t, pageID)); err == nil {
			t.Error("the deleted page is still stored")
		}
	})
}

// TestCatalogRolesAndTenants: a viewer sees no editing control and gets
// 403 from every editing route; another organisation's ids are 404 and its
// rows stay as they were.
func TestCatalogRolesAndTenants(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		h := composerServer(t, st)
		var gid int64
		if err := st.DB().QueryRowContext(context.Background(), webtest.Rebind(st, `INSERT INTO component_groups (org_id, page_id, name)
			VALUES (?, ?, ?) RETURNING id`), b.Org.ID, b.PageID, "G").Scan(&gid); err != nil {
			t.Fatal(err)
		}
		// Every editing route, with b's ids (a's for the viewer).
		routes := func(page, comp, check, group int64) (gets, posts []string) {
			p, c, k, g := webtest.ID(page), webtest.ID(comp), webtest.ID(check), webtest.ID(group)
			gets = []string{"/admin/pages/" + p + "/edit", "/admin/pages/" + p + "/components/new", "/admin/components/" + c + "/edit",
				"/admin/pages/" + p + "/checks/new", "/admin/checks/" + k + "/edit"}
			posts = []string{"/admin/pages/" + p, "/admin/pages/" + p + "/delete", "/admin/pages/" + p + "/groups",
				"/admin/pages/" + p + "/groups/" + g, "/admin/pages/" + p + "/groups/" + g + "/delete",
				"/admin/pages/" + p + "/components", "/admin/components/" + c, "/admin/components/" + c + "/delete",
				"/admin/pages/" + p + "/checks", "/admin/checks/" + k, "/admin/checks/" + k + "/delete"}
			return gets, posts
		}

		viewer := webtest.NewBrowser(t, h)
		vcsrf := viewer.Login(a.Viewer, webtest.TestPassword)
		for _, path := range []string{"/admin/", "/admin/pages/" + webtest.ID(a.PageID), "/admin/components/" + webtest.ID(a.CompID),
			"/admin/checks/" + webtest.ID(a.CheckID)} {
			body := viewer.Get(path).Body
			for _, control := range []string{"new-page", "edit-page", "add-component", "add-check", "edit-component", "edit-check"} {
				if strings.Contains(body, `data-testid="`+control+`"`) {
					t.Errorf("viewer sees %s on %s", control, path)
				}
			}
		}
		gets, posts := routes(a.PageID, a.CompID, a.CheckID, gid)
		posts = append(posts, "/admin/pages")
		gets = append(gets, "/admin/pages/new")
		for _, path := range gets {
			if res := viewer.Get(path); res.Code != http.StatusForbidden {
				t.Errorf("viewer GET %s: got %d, want 403", path, res.Code)
			}
		}
		for _, path := range posts {
			if res := viewer.Post(path, form(vcsrf, "name", "x", "title", "x", "slug", "x", "url", "https://x.io/")); res.Code != http.StatusForbidden {
				t.Errorf("viewer POST %s: got %d, want 403", path, res.Code)
			}
		}

		ed := webtest.NewBrowser(t, h)
		csrf := ed.Login(a.Editor, webtest.TestPassword)
		gets, posts = routes(b.PageID, b.CompID, b.CheckID, gid)
		for _, path := range gets {
			if res := ed.Get(path); res.Code != http.StatusNotFound {
				t.Errorf("editor of a GET %s (b's): got %d, want 404", path, res.Code)
			}
		}
		for _, path := range posts {
			res := ed.Post(path, form(csrf, "name", "x", "title", "x", "slug", "taken-over", "url", "https://x.io/",
				"component", webtest.ID(b.CompID)))
			if res.Code != http.StatusNotFound {
				t.Errorf("editor of a POST %s (b's): got %d, want 404", path, res.Code)
			}
		}
		// A's group id given on a's page with b's group: not found either.
		if res := ed.Post("/admin/pages/"+webtest.ID(a.PageID)+"/groups/"+webtest.ID(gid), form(csrf, "name", "x")); res.Code != http.StatusNotFound {
			t.Errorf("b's group through a's page: got %d, want 404", res.Code)
		}
		// b's component chosen for a check on a's page is refused.
		res := ed.Post("/admin/pages/"+webtest.ID(a.PageID)+"/checks", form(csrf, "component", webtest.ID(b.CompID), "name", "x", "url", "https://x.io/"))
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="error-component"`) {
			t.Errorf("b's component on a's page: got %d, want 422 beside the component", res.Code)
		}
		if _, err := st.Check(context.Background(), b.Org.ID, b.CheckID); err != nil {
			t.Errorf("b's check: %v", err)
		}
		if pg, err := st.Page(context.Background(), b.Org.ID, b.PageID); err != nil || pg.Slug != "b-status" {
			t.Errorf("b's page: %+v, %v", pg, err)
		}
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}

// namedCheck finds an organisation's check by name.
func namedCheck(t *testing.T, st *store.Store, orgID int64, name string) store.Check {
	t.Helper()
	checks, err := st.OrgChecks(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q", name)
	return store.Check{}
}

// checkValues is a check's configuration as stored.
func checkValues(t *testing.T, c store.Check) map[string]any {
	t.Helper()
	var spec map[string]any
	if err := json.Unmarshal(c.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"name": c.Name, "url": c.URL, "spec": spec, "regions": c.Regions, "interval": c.Interval.String(),
		"quorum": c.Quorum, "confirm": c.ConfirmRounds}
}

// wantAudit fails unless the organisation's audit log has an action whose
// detail contains detail.
func wantAudit(t *testing.T, st *store.Store, orgID int64, action, detail string) {
	t.Helper()
	entries, err := st.AuditLog(context.Background(), orgID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Action == action && strings.Contains(string(e.Detail), detail) && strings.HasPrefix(e.Actor, "user:editor@") {
			return
		}
	}
	t.Errorf("no %s audit row by the editor with %s", action, detail)
}

// htmlText escapes s as templ does in text and attributes.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
