package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestOtherOrganisationsRowsAreNotFound: organisation B's session and B's
// token get 404 for A's page, component and check, on the console and the
// API, while A gets them.
func TestOtherOrganisationsRowsAreNotFound(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.SeedTenant(t, st, "b")
		h := webtest.NewServer(t, st, nil).Handler()
		browserA, browserB := webtest.NewBrowser(t, h), webtest.NewBrowser(t, h)
		browserA.Login(a.Viewer, webtest.TestPassword)
		csrfB := browserB.Login(b.Owner, webtest.TestPassword)

		paths := []string{"/pages/" + webtest.ID(a.PageID), "/components/" + webtest.ID(a.CompID), "/checks/" + webtest.ID(a.CheckID)}
		for _, p := range paths {
			if res := browserA.Get("/admin" + p); res.Code != http.StatusOK {
				t.Errorf("A's console %s: got %d, want 200", p, res.Code)
			}
			if res := browserB.Get("/admin" + p); res.Code != http.StatusNotFound {
				t.Errorf("B's console %s: got %d, want 404", p, res.Code)
			}
			if res := browserB.Do(http.MethodGet, "/api/v1"+p, nil, webtest.Bearer(a.ViewTok)); res.Code != http.StatusOK {
				t.Errorf("A's token %s: got %d, want 200", p, res.Code)
			}
			res := browserB.Do(http.MethodGet, "/api/v1"+p, nil, webtest.Bearer(b.OwnerTok))
			if res.Code != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("B's token %s: got %d %q, want 404 JSON", p, res.Code, res.Header.Get("Content-Type"))
			}
		}

		// Mutations of A's rows by B's owner are not found either, and change nothing.
		checkPath := "/checks/" + webtest.ID(a.CheckID) + "/enabled"
		if res := browserB.Post("/admin"+checkPath, url.Values{"enabled": {"false"}, "csrf_token": {csrfB}}); res.Code != http.StatusNotFound {
			t.Errorf("B pausing A's check (console): got %d, want 404", res.Code)
		}
		if res := browserB.Do(http.MethodPost, "/api/v1"+checkPath, `{"enabled":false}`, webtest.Bearer(b.OwnerTok)); res.Code != http.StatusNotFound {
			t.Errorf("B pausing A's check (API): got %d, want 404", res.Code)
		}
		if res := browserB.Post("/admin/tokens/"+webtest.ID(a.OwnerTokID)+"/revoke", url.Values{"csrf_token": {csrfB}}); res.Code != http.StatusNotFound {
			t.Errorf("B revoking A's token: got %d, want 404", res.Code)
		}
		if c, err := st.Check(context.Background(), a.Org.ID, a.CheckID); err != nil || !c.Enabled {
			t.Errorf("A's check after B's attempts = %+v, %v; want unchanged", c, err)
		}
		if _, err := st.TokenByRaw(context.Background(), a.OwnerTok); err != nil {
			t.Errorf("A's token after B's revoke attempt: %v", err)
		}

		// Lists show only the caller's rows.
		res := browserB.Do(http.MethodGet, "/api/v1/pages", nil, webtest.Bearer(b.ViewTok))
		var list struct {
			Pages []struct {
				ID int64 `json:"id"`
			} `json:"pages"`
		}
		if err := json.Unmarshal([]byte(res.Body), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Pages) != 1 || list.Pages[0].ID != b.PageID {
			t.Errorf("B's page list = %s, want only B's page %d", res.Body, b.PageID)
		}
		home := browserB.Get("/admin/")
		if strings.Contains(home.Body, "A status") || strings.Contains(home.Body, "a health") {
			t.Error("B's console lists A's catalogue")
		}
	})
}

// TestViewerCannotChangeAnything walks every state-changing console and API
// route in the router, so a route added later without a role check fails
// here.
func TestViewerCannotChangeAnything(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		srv := webtest.NewServer(t, st, nil)
		b := webtest.NewBrowser(t, srv.Handler())
		csrf := b.Login(a.Viewer, webtest.TestPassword)
		ids := strings.NewReplacer(":id", webtest.ID(a.CheckID))

		tested := map[string]bool{}
		for _, r := range srv.Handler().(*echo.Echo).Routes() {
			if !isMutation(r.Method) {
				continue
			}
			path := r.Path
			switch {
			case strings.HasPrefix(path, "/admin/"):
				p := path
				if strings.HasPrefix(p, "/admin/tokens/") {
					p = strings.ReplaceAll(p, ":id", webtest.ID(a.OwnerTokID))
				}
				res := b.Do(r.Method, ids.Replace(p), url.Values{"csrf_token": {csrf}, "enabled": {"false"}, "name": {"x"}, "role": {"owner"}}, nil)
				if res.Code != http.StatusForbidden {
					t.Errorf("viewer session %s %s: got %d, want 403", r.Method, path, res.Code)
				}
			case strings.HasPrefix(path, "/api/v1/"):
				res := b.Do(r.Method, ids.Replace(path), `{"enabled":false}`, webtest.Bearer(a.ViewTok))
				if res.Code != http.StatusForbidden {
					t.Errorf("viewer token %s %s: got %d, want 403", r.Method, path, res.Code)
				}
			default:
				continue
			}
			tested[r.Method+" "+path] = true
		}
		for _, want := range []string{"POST /admin/checks/:id/enabled", "POST /admin/tokens", "POST /admin/tokens/:id/revoke",
			"POST /api/v1/checks/:id/enabled", "POST /api/v1/apply"} {
			if !tested[want] {
				t.Errorf("route %s was not exercised (tested: %v)", want, tested)
			}
		}

		ctx := context.Background()
		if c, _ := st.Check(ctx, a.Org.ID, a.CheckID); !c.Enabled {
			t.Error("a viewer paused a check")
		}
		if toks, _ := st.Tokens(ctx, a.Org.ID); len(toks) != 3 {
			t.Errorf("tokens after the viewer's attempts = %d, want the 3 seeded", len(toks))
		}
		if _, err := st.TokenByRaw(ctx, a.OwnerTok); err != nil {
			t.Errorf("a viewer revoked a token: %v", err)
		}
		if pages, _ := st.Pages(ctx, a.Org.ID); len(pages) != 1 {
			t.Errorf("pages after the viewer's attempts = %d, want 1", len(pages))
		}

		// Editors change configuration but not tokens.
		eb := webtest.NewBrowser(t, srv.Handler())
		ecsrf := eb.Login(a.Editor, webtest.TestPassword)
		if res := eb.Post("/admin/tokens", url.Values{"csrf_token": {ecsrf}, "name": {"x"}, "role": {"owner"}}); res.Code != http.StatusForbidden {
			t.Errorf("editor creating a token: got %d, want 403", res.Code)
		}
		if res := eb.Do(http.MethodPost, "/api/v1/checks/"+webtest.ID(a.CheckID)+"/enabled", `{"enabled":false}`, webtest.Bearer(a.EditTok)); res.Code != http.StatusOK {
			t.Errorf("editor token pausing a check: got %d, want 200\n%s", res.Code, res.Body)
		}
	})
}

func isMutation(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func TestAPIIsBearerOnly(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
	csrf := b.Login(a.Owner, webtest.TestPassword)

	for name, hdr := range map[string]map[string]string{
		"session cookie only":   nil,
		"cookie and CSRF token": {"X-CSRF-Token": csrf},
		"unknown token":         webtest.Bearer("phr_nope"),
		"basic auth":            {"Authorization": "Basic b3duZXI6cHc="},
	} {
		res := b.Do(http.MethodGet, "/api/v1/pages", nil, hdr)
		if res.Code != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: got %d (WWW-Authenticate %q), want 401 with a challenge", name, res.Code, res.Header.Get("WWW-Authenticate"))
		}
	}
	if res := b.Do(http.MethodGet, "/api/v1/pages", nil, webtest.Bearer(a.ViewTok)); res.Code != http.StatusOK {
		t.Errorf("viewer token: got %d, want 200", res.Code)
	}
}

// TestConsoleTokens: an owner creates a token in the console, sees it once,
// uses it on the API and revokes it; each step is audited.
func TestConsoleTokens(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		a := webtest.SeedTenant(t, st, "a")
		b := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
		csrf := b.Login(a.Owner, webtest.TestPassword)

		res := b.Post("/admin/tokens", url.Values{"csrf_token": {csrf}, "name": {"deploy"}, "role": {"editor"}})
		if res.Code != http.StatusOK {
			t.Fatalf("create token: got %d, want 200\n%s", res.Code, res.Body)
		}
		start := strings.Index(res.Body, `data-testid="new-token">`)
		if start < 0 {
			t.Fatalf("the new token is not shown:\n%s", res.Body)
		}
		raw := res.Body[start+len(`data-testid="new-token">`):]
		raw = raw[:strings.Index(raw, "<")]
		if !strings.HasPrefix(raw, "phr_") {
			t.Fatalf("shown token %q, want phr_…", raw)
		}
		if home := b.Get("/admin/"); strings.Contains(home.Body, raw) || !strings.Contains(home.Body, raw[:12]) {
			t.Error("the console shows the token again (or not even its prefix) after creating it")
		}
		if res := b.Do(http.MethodGet, "/api/v1/pages", nil, webtest.Bearer(raw)); res.Code != http.StatusOK {
			t.Errorf("new token on the API: got %d, want 200", res.Code)
		}
		var tokID int64
		if err := st.DB().QueryRowContext(context.Background(), webtest.Rebind(st, `SELECT id FROM api_tokens WHERE name = ?`), "deploy").Scan(&tokID); err != nil {
			t.Fatal(err)
		}
		if res := b.Post("/admin/tokens/"+webtest.ID(tokID)+"/revoke", url.Values{"csrf_token": {csrf}}); res.Code != http.StatusSeeOther {
			t.Errorf("revoke: got %d, want 303", res.Code)
		}
		if res := b.Do(http.MethodGet, "/api/v1/pages", nil, webtest.Bearer(raw)); res.Code != http.StatusUnauthorized {
			t.Errorf("revoked token on the API: got %d, want 401", res.Code)
		}

		audit := b.Get("/admin/audit")
		for _, want := range []string{"token.create", "token.revoke", "login", "user:owner@a.example"} {
			if !strings.Contains(audit.Body, want) {
				t.Errorf("audit log page lacks %q", want)
			}
		}
		if strings.Contains(audit.Body, raw) {
			t.Error("the audit log shows the raw token")
		}
	})
}
