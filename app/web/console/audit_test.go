package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestAuditLogScreen: the audit log names the objects its rows point at by
// id, filters by who, what and when, pages back through older rows, is
// readable by a viewer, refuses a malformed date beside the form, and
// shows nothing of another organisation.
func TestAuditLogScreen(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		h := webtest.NewServer(t, st, nil).Handler()
		owner := webtest.NewBrowser(t, h)
		csrf := owner.Login(a.Owner, webtest.TestPassword)
		if res := owner.Post(fmt.Sprintf("/admin/checks/%d/enabled", a.CheckID), url.Values{"csrf_token": {csrf}, "enabled": {"false"}}); res.Code != http.StatusSeeOther {
			t.Fatalf("pause: got %d, want 303", res.Code)
		}
		long := strings.Repeat("very-long-detail-", 40)
		if err := st.Audit(ctx, a.Org.ID, store.CLIActor(), "component.status", fmt.Sprintf("component %d", a.CompID),
			map[string]any{"page_id": a.PageID, "check_ids": []int64{a.CheckID, b.CheckID}, "note": long}); err != nil {
			t.Fatal(err)
		}
		if err := st.Audit(ctx, b.Org.ID, store.CLIActor(), "check.enabled", fmt.Sprintf("check %d", b.CheckID), nil); err != nil {
			t.Fatal(err)
		}

		viewer := webtest.NewBrowser(t, h)
		viewer.Login(a.Viewer, webtest.TestPassword)
		page := viewer.Get("/admin/audit")
		if page.Code != http.StatusOK {
			t.Fatalf("viewer reading the audit log: got %d, want 200", page.Code)
		}
		for _, want := range []string{
			`href="/admin/checks/` + webtest.ID(a.CheckID) + `">a health</a>`, // target named and linked
			"<strong>A status</strong>",                                       // page_id named
			"<strong>a health</strong>",                                       // check_ids named, a's only
			long,                                                              // detail shown whole, wrapped by CSS
			`data-testid="audit-actor">user:` + a.Owner,
		} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("audit log lacks %q", want)
			}
		}
		if strings.Contains(page.Body, "b health") {
			t.Error("a's audit log names b's check")
		}

		count := func(q string) int {
			t.Helper()
			res := viewer.Get("/admin/audit?" + q)
			if res.Code != http.StatusOK {
				t.Fatalf("audit ?%s: got %d, want 200\n%s", q, res.Code, res.Body)
			}
			return strings.Count(res.Body, `data-testid="audit-row"`)
		}
		all := count("")
		for _, tc := range []struct {
			q    string
			want int
		}{
			{"who=cli", 1},
			{"action=check", 1},
			{"action=login", 2},
			{"who=" + url.QueryEscape(a.Viewer) + "&action=login", 1},
			{"from=2000-01-01&to=2000-01-02", 0},
			{"from=2000-01-01", all},
		} {
			if got := count(tc.q); got != tc.want {
				t.Errorf("audit ?%s: got %d rows, want %d", tc.q, got, tc.want)
			}
		}
		if res := viewer.Get("/admin/audit?from=yesterday"); res.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(res.Body, `data-testid="form-error"`) || !strings.Contains(res.Body, `value="yesterday"`) {
			t.Errorf("malformed date: got %d, want 422 with the error and the form refilled\n%s", res.Code, res.Body)
		}
	})
}

// TestAuditLogPages: more rows than a page holds are reached through
// "Older entries" links that keep the filter, each row once.
func TestAuditLogPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := webtest.SeedTenant(t, st, "a")
		const n = 230
		for i := range n {
			if err := st.Audit(ctx, a.Org.ID, store.CLIActor(), "token.revoke", fmt.Sprintf("token n%d", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		br.Login(a.Owner, webtest.TestPassword)
		seen := map[string]bool{}
		next, pages := "/admin/audit?action=token.revoke", 0
		for next != "" && pages < 10 {
			res := br.Get(next)
			pages++
			for _, part := range strings.Split(res.Body, `data-testid="audit-target">`)[1:] {
				target := strings.TrimSpace(part[:strings.Index(part, "<")])
				if seen[target] {
					t.Errorf("row %q shown twice", target)
				}
				seen[target] = true
			}
			next = ""
			if i := strings.Index(res.Body, `data-testid="audit-older"`); i >= 0 {
				href := res.Body[strings.LastIndex(res.Body[:i], `href="`)+6:]
				next = strings.ReplaceAll(href[:strings.Index(href, `"`)], "&amp;", "&")
				if !strings.Contains(next, "action=token.revoke") {
					t.Errorf("older link %q drops the filter", next)
				}
			}
		}
		if len(seen) != n || pages != 3 {
			t.Errorf("paged through %d rows in %d pages, want %d in 3", len(seen), pages, n)
		}
	})
}
