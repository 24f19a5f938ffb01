package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"pharos/app/store"
	"pharos/app/web"
)

const testPassword = "correct horse battery"

// newServer builds a server on st with a fast password hash.
func newServer(t *testing.T, st *store.Store, tweak func(*web.Options)) *web.Server {
	t.Helper()
	opts := web.Options{
		Store:        st,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		SecretKey:    strings.Repeat("k", 32),
		PasswordCost: bcrypt.MinCost,
	}
	if tweak != nil {
		tweak(&opts)
	}
	srv, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, against a test server.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: ts.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	Code   int
	Header http.Header
	Body   string
}

// do sends a request; body is sent as a form when it is url.Values, as is
// when it is a string.
func (b *browser) do(method, path string, body any, header map[string]string) response {
	b.t.Helper()
	var r io.Reader
	ctype := ""
	switch v := body.(type) {
	case url.Values:
		r, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	case string:
		r, ctype = strings.NewReader(v), "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{Code: res.StatusCode, Header: res.Header, Body: string(data)}
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, nil, nil) }

func (b *browser) post(path string, form url.Values) response {
	return b.do(http.MethodPost, path, form, nil)
}

// cookie returns the value of the named cookie the browser holds.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfOf extracts the first CSRF token of a page's forms.
func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no csrf_token field in page:\n%s", html)
	}
	return m[1]
}

// login signs the browser in and returns the session's CSRF token.
func (b *browser) login(email, password string) string {
	b.t.Helper()
	page := b.get("/login")
	res := b.post("/login", url.Values{"csrf_token": {csrfOf(b.t, page.Body)}, "email": {email}, "password": {password}})
	if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/admin/" {
		b.t.Fatalf("login %s: got %d %s, want 303 to /admin/\n%s", email, res.Code, res.Header.Get("Location"), res.Body)
	}
	home := b.get("/admin/")
	if home.Code != http.StatusOK {
		b.t.Fatalf("console after login: got %d, want 200", home.Code)
	}
	return csrfOf(b.t, home.Body)
}

// tenant is one organisation's fixtures.
type tenant struct {
	org                       store.Org
	pageID, compID, checkID   int64
	owner, editor, viewer     string // emails
	ownerTok, editTok, viewTk string // raw API tokens
	ownerTokID                int64
}

// seedTenant creates an organisation with an owner, an editor and a viewer
// (all with testPassword), one token per role, and a page with a component
// and a check.
func seedTenant(t *testing.T, st *store.Store, slug string) tenant {
	t.Helper()
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, strings.ToUpper(slug), slug)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenant{org: org}
	hash, err := store.HashPassword(testPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		role  store.Role
		email *string
		token *string
	}{
		{store.RoleOwner, &tn.owner, &tn.ownerTok},
		{store.RoleEditor, &tn.editor, &tn.editTok},
		{store.RoleViewer, &tn.viewer, &tn.viewTk},
	} {
		*m.email = string(m.role) + "@" + slug + ".example"
		u, err := st.CreateUser(ctx, *m.email, hash)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddMember(ctx, org.ID, u.ID, m.role); err != nil {
			t.Fatal(err)
		}
		tok, raw, err := st.CreateToken(ctx, org.ID, string(m.role)+"-token", m.role, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		*m.token = raw
		if m.role == store.RoleOwner {
			tn.ownerTokID = tok.ID
		}
	}
	db := st.DB()
	q := func(s string) string { return rebind(st, s) }
	if err := db.QueryRowContext(ctx, q(`INSERT INTO pages (org_id, slug, title) VALUES (?, ?, ?) RETURNING id`),
		org.ID, slug+"-status", strings.ToUpper(slug)+" status").Scan(&tn.pageID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, q(`INSERT INTO components (org_id, page_id, name) VALUES (?, ?, ?) RETURNING id`),
		org.ID, tn.pageID, slug+" API").Scan(&tn.compID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, q(`INSERT INTO checks (org_id, page_id, component_id, name, url) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		org.ID, tn.pageID, tn.compID, slug+" health", "https://api."+slug+".example/health").Scan(&tn.checkID); err != nil {
		t.Fatal(err)
	}
	return tn
}

// rebind turns '?' placeholders into PostgreSQL's $n for raw test queries.
func rebind(st *store.Store, q string) string {
	if st.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func id(n int64) string { return strconv.FormatInt(n, 10) }
